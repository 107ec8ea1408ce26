import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ERROR_CODES, HTTP_STATUS, SbxError } from '../protocol/index.js';

for (const code of ERROR_CODES) {
  test(`${code} survives the wire and has a status`, () => {
    const e = new SbxError(code, `doing something: ${code}`, { detail: { x: 1 } });
    const back = SbxError.fromBody(JSON.parse(JSON.stringify(e.toBody())));
    assert.is(back.code, code);
    assert.is(back.message, e.message);
    assert.equal(back.detail, { x: 1 });
    assert.ok(HTTP_STATUS[code] >= 400 && HTTP_STATUS[code] < 600);
  });
}

test('an unknown code from the wire becomes internal', () => {
  assert.is(SbxError.fromBody({ code: 'weird', message: 'm' }).code, 'internal');
  assert.is(SbxError.fromBody(null).code, 'internal');
});

test.run();

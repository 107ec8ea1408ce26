import { Registry } from '../../protocol/index.js';
import { UsageError, str, type Command } from '../command.js';

async function readStdin(stdin: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stdin as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export const command: Command = {
  name: 'login',
  summary: 'Log in to a registry',
  usage: 'sbx login [-u USER] [-p PASSWORD | --password-stdin] [--insecure] SERVER',
  options: {
    username: { type: 'string', short: 'u' },
    password: { type: 'string', short: 'p' },
    'password-stdin': { type: 'boolean' },
    insecure: { type: 'boolean' },
  },
  async run({ values, positionals }, { client, stdout, stderr, stdin }) {
    if (positionals.length !== 1) throw new UsageError('"sbx login" requires exactly 1 argument (the registry)');
    const username = str(values.username);
    if (!username) throw new UsageError('a user name is required (-u USER)');
    let password = str(values.password);
    if (values['password-stdin']) {
      if (password !== undefined) throw new UsageError('--password and --password-stdin are mutually exclusive');
      password = await readStdin(stdin);
    } else if (password !== undefined) {
      stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    }
    if (!password) throw new UsageError('a password is required (--password-stdin)');
    await client.call(Registry.login, { registry: positionals[0]!, username, password, ...(values.insecure ? { insecure: true } : {}) });
    stdout.write('Login Succeeded\n');
  },
};

/** docker's PromptForConfirmation: ask on stdout, read one line of stdin, yes only for "y"/"Y". */
import { createInterface } from 'node:readline';

export async function confirm(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream, message: string): Promise<boolean> {
  // A one-line warning shares the question's line; a list (ending in a newline) sits above it.
  stdout.write(`${message}${message.endsWith('\n') ? '' : ' '}Are you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: stdin, terminal: false });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y$/i.test(answer.trim());
}

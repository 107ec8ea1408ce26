/**
 * docker's PromptForConfirmation: ask on stdout, read one line of stdin, yes only for "y"/"Y".
 * A message ending in a newline puts the question on a line of its own (docker's prune
 * warnings); otherwise it shares the message's line (docker's builder prune).
 */
import { createInterface } from 'node:readline';

export async function confirm(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream, message: string): Promise<boolean> {
  stdout.write(`${message}${message.endsWith('\n') ? '' : ' '}Are you sure you want to continue? [y/N] `);
  const rl = createInterface({ input: stdin, terminal: false });
  const answer = await new Promise<string>((resolve) => {
    rl.once('line', resolve);
    rl.once('close', () => resolve(''));
  });
  rl.close();
  return /^y$/i.test(answer.trim());
}

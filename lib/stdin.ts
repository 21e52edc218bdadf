/**
 * The whole of standard input as UTF-8: how the CLIs take a secret, so that it never sits in argv
 * (visible to every user through `ps`) or in the shell's history.
 */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

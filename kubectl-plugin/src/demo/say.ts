/** The demo's own lines on stdout. */

// `npm run demo | head`: a closed stdout does not stop the demo (nor leave kube-sim running)
process.stdout.on('error', () => {});

export function say(line = ''): void {
  process.stdout.write(`${line}\n`);
}

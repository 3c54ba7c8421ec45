// Runs `skbtrail record` in-process and throws an uncaught exception once it is attached:
// a crash of the JavaScript side, for the test that nothing stays attached in the kernel.
import fs from 'node:fs';
const { main } = await import('@skbtrail/recorder/cli');
const args = process.argv.slice(2);
const ready = args[args.indexOf('--ready-file') + 1];
const timer = setInterval(() => {
  if (fs.existsSync(ready)) {
    clearInterval(timer);
    throw new Error('injected crash');
  }
}, 20);
await main(['record', ...args]);

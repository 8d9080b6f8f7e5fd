#!/usr/bin/env node
/** `facelive`: one program, one subcommand per job. */
import { AssetError, InputError, ModelContractError, UsageError } from '../../shared/errors.js';
import { CLIENT_USAGE, clientCommand } from './client.js';
import { RECONSTRUCT_USAGE, reconstructCommand } from './reconstruct.js';
import { SERVE_USAGE, serveCommand } from './serve.js';
import { SYNTH_USAGE, synthCommand } from './synth.js';

const USAGE = `Usage: facelive <command> [flags]

Commands:
  synth         render synthetic face sequences with exact ground truth
  reconstruct   a video, a folder of images or one image in; depth, canonical maps, tracks, mesh, point clouds out
  serve         the live server: WebRTC video in, 4D face results out on data channels
  client        stream a video or images to a live server as a WebRTC peer and report speed and latency

Run "facelive <command> --help" for a command's flags.`;

const COMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  synth: { usage: SYNTH_USAGE, run: (argv) => synthCommand(argv) },
  reconstruct: { usage: RECONSTRUCT_USAGE, run: reconstructCommand },
  serve: { usage: SERVE_USAGE, run: serveCommand },
  client: { usage: CLIENT_USAGE, run: clientCommand },
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof UsageError) {
      process.stderr.write(`facelive: ${e.message}\nRun "facelive --help" for usage.\n`);
      process.exitCode = 2;
    } else if (e instanceof InputError || e instanceof AssetError || e instanceof ModelContractError) {
      process.stderr.write(`facelive: ${e.message}\n`);
      process.exitCode = 1;
    } else if (isSystemError(e)) {
      // the operating system refused something (a file, a port): its own words say what, a stack adds nothing
      process.stderr.write(`facelive: ${e.message}\n`);
      process.exitCode = 1;
    } else {
      process.stderr.write(`facelive: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exitCode = 1;
    }
  },
);

function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  const x = e as NodeJS.ErrnoException | null;
  return x instanceof Error && typeof x.code === 'string' && /^E[A-Z]+$/.test(x.code) && typeof x.syscall === 'string';
}

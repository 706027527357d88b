#!/usr/bin/env node
// Entry point of the `enclave-elect` binary: parse argv, run, set the exit code.
import './process-settings.ts';
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2));

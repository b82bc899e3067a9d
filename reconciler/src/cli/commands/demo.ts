// Placeholder: replaced by the implementation of `fleet demo`.
import type { Command } from 'commander';

export function register(_program: Command): void {}

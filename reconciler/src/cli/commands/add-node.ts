// Placeholder: replaced by the implementation of `fleet add-node`.
import type { Command } from 'commander';

export function register(_program: Command): void {}

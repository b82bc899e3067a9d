// Placeholder: replaced by the implementation of `fleet apply`.
import type { Command } from 'commander';

export function register(_program: Command): void {}

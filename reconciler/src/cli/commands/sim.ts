// Placeholder: replaced by the implementation of `fleet sim`.
import type { Command } from 'commander';

export function register(_program: Command): void {}

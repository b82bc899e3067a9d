// Placeholder: replaced by the implementation of `fleet plan`.
import type { Command } from 'commander';

export function register(_program: Command): void {}

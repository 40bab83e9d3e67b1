import { Args } from '@oclif/core';

/** The plan file argument most commands take. */
export const planArg = Args.string({
  name: 'PLAN',
  description: 'Path of the plan file (YAML).',
  required: true,
});

#!/usr/bin/env node
// Uses the project's @oclif/core (resolved from the repository's node_modules).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });

/**
 * The plan's `fleet:` (the application behind the load balancer) and the keys every provider
 * shares. The keys of `haproxy` are the contract's (docs/SPEC.md "Releases and the fleet");
 * docs/fleet.md explains each.
 */
import { z } from 'zod';
import { durationMs, rule } from './schema-common.js';
import { ecsRules, haproxyRules } from './schema-rules.js';

export const FLEET_MODES = ['rolling', 'blue-green'] as const;

export const ProbeSchema = z
  .strictObject({
    path: z
      .string()
      .regex(/^\//, 'must be an HTTP path starting with /, e.g. /healthz')
      .default('/healthz')
      .meta({ description: 'Path maint requests on each new server, bypassing the load balancer.' }),
    expectRelease: z.boolean().default(false).meta({
      description:
        'Also require the release in the `x-release` response header or a JSON body field `release`.',
    }),
    timeout: durationMs.prefault('2s').meta({ description: 'Longest one probe request may take.' }),
  })
  .meta({ description: "maint's own HTTP check of each new server (besides the load balancer's)." });

/** Keys every provider takes. */
const common = {
  mode: z
    .enum(FLEET_MODES)
    .default('rolling')
    .meta({ description: '`rolling` (batch by batch) or `blue-green` (new servers, then shift).' }),
  healthTimeout: durationMs.prefault('60s').meta({
    description: 'How long a batch (rolling) or the green set (blue-green) may take to be healthy.',
  }),
  drainTimeout: durationMs
    .prefault('30s')
    .meta({ description: "Longest maint waits for an old server's sessions to end." }),
};

const serverName = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]+$/, 'a server name as HAProxy names it: letters, digits, _ . : -');

const HaproxyFleetSchema = z
  .strictObject({
    provider: z.literal('haproxy'),
    runtimeApi: z.string().min(1).meta({
      description: 'The runtime API (`stats socket ... level admin`): a unix socket path or host:port.',
    }),
    backend: z.string().min(1).meta({ description: 'The HAProxy backend serving the application.' }),
    ...common,
    servers: z
      .array(serverName)
      .min(1)
      .optional()
      .meta({ description: 'Rolling: the servers to roll (default: every server of the backend).' }),
    green: z.array(serverName).min(1).optional().meta({
      description: 'Blue-green: the servers the new release starts on; the others in service are blue.',
    }),
    start: z.string().min(1).meta({
      description:
        'Shell command starting one server on MAINT_RELEASE (env MAINT_RELEASE, MAINT_SERVER, MAINT_SERVER_ADDR, MAINT_DATABASE_URL); relative paths from the plan folder.',
    }),
    stop: z.string().min(1).meta({ description: 'Shell command stopping one server (same env as `start`).' }),
    probe: ProbeSchema.prefault({}),
    batch: z.number().int().min(1).default(1).meta({ description: 'Rolling: servers per batch.' }),
  })
  .check(rule(haproxyRules));

const EcsFleetSchema = z
  .strictObject({
    provider: z.literal('ecs'),
    region: z.string().min(1).optional().meta({ description: 'AWS region (default: the standard chain).' }),
    endpoint: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL, e.g. http://localhost:4566' })
      .optional()
      .meta({ description: 'AWS endpoint override (LocalStack, tests).' }),
    cluster: z.string().min(1),
    service: z.string().min(1).meta({ description: 'The ECS service serving the application (blue).' }),
    taskDefinition: z.string().min(1).optional().meta({
      description: "The release's task definition (family:revision or ARN), usually with ${RELEASE}.",
    }),
    targetGroupArns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .meta({ description: "The service's target group(s), whose target health gates the roll." }),
    listenerRuleArn: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Blue-green: the listener rule whose weighted forward is shifted.' }),
    greenService: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Blue-green: the service the new release starts in.' }),
    greenTargetGroupArn: z
      .string()
      .min(1)
      .optional()
      .meta({ description: "Blue-green: the green service's target group." }),
    ...common,
    probe: ProbeSchema.optional(),
    pollInterval: durationMs.prefault('5s').meta({
      description: 'Pause between two reads of ECS and the load balancer while waiting (API rate limits).',
    }),
  })
  .check(rule(ecsRules));

const CommandFleetSchema = z.strictObject({
  provider: z.literal('command'),
  deploy: z.string().min(1).meta({
    description:
      'Shell command rolling the fleet to MAINT_RELEASE (env as haproxy `start`); exit 0 when done.',
  }),
  health: z.string().min(1).optional().meta({
    description:
      'Shell command that exits 0 once MAINT_RELEASE serves healthy; polled until `healthTimeout`.',
  }),
  rollback: z.string().min(1).optional().meta({
    description: 'Shell command returning MAINT_RELEASE (the previous release) to service.',
  }),
  mode: z.literal('rolling').default('rolling').meta({ description: 'The command decides how it rolls.' }),
  healthTimeout: common.healthTimeout,
  interval: durationMs.prefault('2s').meta({ description: 'Pause between two `health` attempts.' }),
});

export const FleetSchema = z
  .discriminatedUnion('provider', [EcsFleetSchema, HaproxyFleetSchema, CommandFleetSchema])
  .meta({ description: 'The application behind the load balancer, rolled after the database work.' });
export const FLEET_PROVIDERS = ['ecs', 'haproxy', 'command'] as const;

export const ReleaseSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@/+-]{0,127}$/,
    'a release is an image tag or git sha: letters, digits and _ . : @ / + -',
  )
  .meta({ description: 'What the plan rolls out (image tag, git sha), usually ${RELEASE}.' });

export type FleetConfig = z.output<typeof FleetSchema>;
export type HaproxyFleetConfig = z.output<typeof HaproxyFleetSchema>;
export type EcsFleetConfig = z.output<typeof EcsFleetSchema>;
export type CommandFleetConfig = z.output<typeof CommandFleetSchema>;
export type ProbeConfig = z.output<typeof ProbeSchema>;

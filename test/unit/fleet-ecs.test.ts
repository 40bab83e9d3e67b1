/** Pure parts of the ecs provider: the release an image names, and which AWS errors are which. */
import { describe, expect, it } from 'vitest';
import { awsErrorName, isCredentialsError, isThrottling, isUnreachable } from '../../src/fleet/aws.js';
import { imageTag } from '../../src/fleet/ecs-read.js';

describe('imageTag', () => {
  it.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:2026.12.04-1', '2026.12.04-1'],
    ['registry.example:5000/team/app:v2', 'v2'],
    ['registry.example:5000/team/app', null],
    ['app', null],
    ['app:v3@sha256:abc', 'v3'],
    ['app@sha256:abc', null],
  ])('%s → %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('AWS error classes', () => {
  const aws = (name: string, status?: number) =>
    Object.assign(new Error(name), { name, $metadata: status ? { httpStatusCode: status } : {} });

  it('throttling by the codes ECS and ELBv2 answer', () => {
    expect(isThrottling(aws('ThrottlingException', 400))).toBe(true);
    expect(isThrottling(aws('Throttling', 400))).toBe(true);
    expect(isThrottling(aws('ClientException', 400))).toBe(false);
    // A plain Error named like one is not an AWS answer.
    expect(isThrottling(Object.assign(new Error('x'), { name: 'Throttling' }))).toBe(false);
  });

  it('unreachable: no HTTP answer at all', () => {
    expect(isUnreachable(Object.assign(new Error('refused'), { code: 'ECONNREFUSED', $metadata: {} }))).toBe(
      true,
    );
    expect(isUnreachable(Object.assign(new Error('slow'), { name: 'TimeoutError' }))).toBe(true);
    expect(isUnreachable(aws('ServiceUnavailable', 503))).toBe(false);
  });

  it('credentials and names', () => {
    expect(isCredentialsError(Object.assign(new Error('none'), { name: 'CredentialsProviderError' }))).toBe(
      true,
    );
    expect(awsErrorName(aws('AccessDeniedException', 400))).toBe('AccessDeniedException');
    expect(awsErrorName(new Error('plain'))).toBeUndefined();
  });
});

/**
 * Faults on demand: the rules tests add (in process or over the control API), which request each
 * one hits, and the error answers they produce in the provider's own format. Validation is strict
 * (unknown fields rejected) because a misspelt field would otherwise silently inject nothing.
 */
import { json, type FaultBodies } from './providers/provider-module';
import { FAULT_KINDS, PROVIDER_IDS, type FakeResponse, type FaultKind, type FaultRule, type ParsedRequest, type ProviderId } from './types';
import { isRecord } from './http-io';

const RULE_FIELDS = new Set(['provider', 'operation', 'kind', 'times', 'status', 'retryAfterSeconds', 'latencyMs']);

export class InvalidFaultRuleError extends Error {
  constructor(message: string) {
    super(`invalid fault rule: ${message}`);
    this.name = 'InvalidFaultRuleError';
  }
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Checks a rule from any source (a test or a JSON body) and returns a private copy. */
export function validateFaultRule(input: unknown): FaultRule {
  if (!isRecord(input)) throw new InvalidFaultRuleError('expected an object');
  const unknown = Object.keys(input).filter((key) => !RULE_FIELDS.has(key));
  if (unknown.length > 0) throw new InvalidFaultRuleError(`unknown field(s) ${unknown.join(', ')}`);
  const { provider, operation, kind, times, status, retryAfterSeconds, latencyMs } = input;
  if (!PROVIDER_IDS.includes(provider as ProviderId)) {
    throw new InvalidFaultRuleError(`provider must be one of ${PROVIDER_IDS.join(', ')}`);
  }
  if (!FAULT_KINDS.includes(kind as FaultKind)) throw new InvalidFaultRuleError(`kind must be one of ${FAULT_KINDS.join(', ')}`);
  if (operation !== undefined && (typeof operation !== 'string' || operation === '')) {
    throw new InvalidFaultRuleError('operation must be a non-empty string');
  }
  if (times !== undefined && (!isNonNegativeInteger(times) || times === 0)) {
    throw new InvalidFaultRuleError('times must be a positive integer');
  }
  if (status !== undefined && (!isNonNegativeInteger(status) || status < 100 || status > 599)) {
    throw new InvalidFaultRuleError('status must be an HTTP status (100-599)');
  }
  if (retryAfterSeconds !== undefined && !isNonNegativeInteger(retryAfterSeconds)) {
    throw new InvalidFaultRuleError('retryAfterSeconds must be a non-negative integer');
  }
  if (latencyMs !== undefined && !isNonNegativeInteger(latencyMs)) {
    throw new InvalidFaultRuleError('latencyMs must be a non-negative integer');
  }
  if (kind === 'latency' && latencyMs === undefined) throw new InvalidFaultRuleError('a latency fault needs latencyMs');
  if (kind === 'hold' && (times === undefined || times < 2)) throw new InvalidFaultRuleError('a hold fault needs times of at least 2');
  // Only the fields that were given, so records and listings show the rule as written.
  return Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) as unknown as FaultRule;
}

interface ActiveFault {
  id: string;
  rule: FaultRule;
  /** Matching requests still to hit; undefined = until cleared. */
  remaining: number | undefined;
}

export class FaultBook {
  private faults: ActiveFault[] = [];
  // Never restarts, not even on reset, so a stale id can never remove a newer rule.
  private nextId = 1;

  add(input: unknown): string {
    const rule = validateFaultRule(input);
    const id = `fault_${this.nextId++}`;
    this.faults.push({ id, rule, remaining: rule.times });
    return id;
  }

  remove(id: string): boolean {
    const before = this.faults.length;
    this.faults = this.faults.filter((fault) => fault.id !== id);
    return this.faults.length < before;
  }

  clear(): void {
    this.faults = [];
  }

  /** The oldest rule matching this request, with one of its `times` used up. */
  take(provider: ProviderId, operation: string): FaultRule | undefined {
    const fault = this.faults.find(
      (candidate) => candidate.rule.provider === provider && (candidate.rule.operation === undefined || candidate.rule.operation === operation),
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining--;
      if (fault.remaining === 0) this.remove(fault.id);
    }
    return fault.rule;
  }
}

/** Faults that answer with an error instead of processing the request. */
export function isErrorAnswerFault(kind: FaultKind): kind is 'status' | 'rate-limit' | 'validation' {
  return kind === 'status' || kind === 'rate-limit' || kind === 'validation';
}

export function faultAnswer(rule: FaultRule, bodies: FaultBodies, req: ParsedRequest, operation: string): FakeResponse {
  switch (rule.kind) {
    case 'rate-limit':
      return json(429, bodies.rateLimit(), { ...bodies.rateLimitHeaders?.(), 'Retry-After': String(rule.retryAfterSeconds ?? 1) });
    case 'validation':
      return json(400, bodies.validation(req, operation));
    case 'status': {
      const status = rule.status ?? 500;
      const headers = rule.retryAfterSeconds !== undefined ? { 'Retry-After': String(rule.retryAfterSeconds) } : undefined;
      return json(status, bodies.status(status), headers);
    }
    default:
      throw new Error(`a ${rule.kind} fault has no error answer`);
  }
}

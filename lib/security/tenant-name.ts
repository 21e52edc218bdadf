/**
 * What a tenant may be called, in one place: configuration, API keys, tokens, `/tenants/:tenant`
 * paths, the CLI and the payload codec all test names with `tenantPattern`. `system` is reserved:
 * it labels Switchyard's own work (alert SMS run as `call:system:…`, workflows/alerts.ts), which
 * the payload codec seals as nobody's tenant; a tenant of that name must not exist to claim it.
 */

/** Lowercase letters, digits, "_" and "-", at most 63 characters, and not a reserved name. */
export const tenantPattern = /^(?!system$)[a-z0-9][a-z0-9_-]{0,62}$/;

/** `tenantPattern` in words, for 400s and configuration errors. */
export const tenantNameRule = 'lowercase letters, digits, "_" and "-", at most 63 characters, not "system" (reserved)';

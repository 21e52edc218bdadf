/**
 * One JSON logger for every process. Secrets never reach it: request headers and bodies are not
 * logged, and the redact list below catches the field names that could carry credentials anyway.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

/** `destination`: where the lines go (default stdout); tests read them from a stream. */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    name,
    level,
    base: { service: name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'secret', '*.secret', 'secrets', '*.secrets', 'authorization', '*.authorization', 'signature', '*.signature',
        'signingSecret', '*.signingSecret',
      ],
      censor: '[redacted]',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

import { plainToInstance } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min, validateSync } from 'class-validator';

/** Variables every pacslink service reads; each app extends this with its own. */
export class ServiceEnv {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Matches(/^amqps?:\/\/\S+$/, { message: 'AMQP_URL must be an amqp:// or amqps:// URL' })
  AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(65535)
  HTTP_PORT?: number;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /** `pretty` for people at a terminal (npm start); JSON lines otherwise. */
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = 'json';

  /**
   * From SIGTERM to exit, at most: work in flight wraps up, reports and acks within it, then the
   * process exits anyway. Below Kubernetes' grace period minus the preStop pause (k8s/README.md).
   */
  @IsInt() @Min(1_000) @Max(600_000) SHUTDOWN_DRAIN_MS: number = 20_000;
}

export class DatabaseServiceEnv extends ServiceEnv {
  @Matches(/^postgres(ql)?:\/\/\S+\/[^/\s]+$/, {
    message: 'DATABASE_URL must be a postgres:// URL naming a database',
  })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/pacslink';
}

export class EnvError extends Error {
  override readonly name = 'EnvError';
}

/**
 * Reads the environment once, at boot, into a validated object. Fails fast with every bad
 * variable named, so a deployment mistake is a clear crash, not a half-working service.
 */
export function loadEnv<T extends ServiceEnv>(type: new () => T, source: NodeJS.ProcessEnv = process.env): T {
  const defined = Object.fromEntries(
    Object.entries(source).filter(([, value]) => value !== undefined && value !== ''),
  );
  const env = plainToInstance(type, { ...new type(), ...defined }, { enableImplicitConversion: true });
  const errors = validateSync(env, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (error) => `  ${error.property}: ${Object.values(error.constraints ?? {}).join('; ')}`,
    );
    throw new EnvError(`invalid environment:\n${lines.join('\n')}`);
  }
  return env;
}

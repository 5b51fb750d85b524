import { Transform } from 'class-transformer';
import { IsOptional, Validate, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { validateCronExpression } from 'cron';
import { toTrimmed } from '../config/environment-transforms';

@ValidatorConstraint({ name: 'isCronOrOff' })
class CronOrOff implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return value === 'off' || (typeof value === 'string' && validateCronExpression(value).valid);
  }
  defaultMessage(): string {
    return 'CREDITS_EXPIRE_CRON must be a cron expression (6 fields with seconds, or 5) or "off"';
  }
}

/** The credits domain's settings (read with `config.section(CreditsEnvironment)`). */
export class CreditsEnvironment {
  /**
   * When the daily expiry runs, in the service time zone `TZ`: by default 30 s after local
   * midnight, so grants that expired "at the end of" the previous day go at once. `off` disables
   * it (e.g. when another deployment runs it).
   */
  @IsOptional()
  @Transform(toTrimmed)
  @Validate(CronOrOff)
  CREDITS_EXPIRE_CRON = '30 0 0 * * *';
}

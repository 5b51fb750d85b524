import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';
import { EmailLimits } from './email.limits';

/** What a template needs in its context: each name is a string or number. */
export interface TemplateSpec {
  required: readonly string[];
  optional: readonly string[];
  /** Fields that must be absolute http(s) URLs (they end up in links). */
  urls: readonly string[];
}

/**
 * Every template under `templates/<locale>/<name>.html.hbs` (+ `.txt.hbs`), and its context.
 * Checked at submit so a missing template or a bad context is a 400, never a failure later;
 * the template service refuses to boot when a file listed here is missing.
 */
export const TEMPLATE_CATALOG: Readonly<Record<string, TemplateSpec>> = {
  notification: {
    required: ['title', 'body'],
    optional: ['recipientName', 'actionUrl', 'actionLabel'],
    urls: ['actionUrl'],
  },
  'export-ready': {
    required: ['fileName', 'downloadUrl'],
    optional: ['recipientName', 'expiresAt', 'fileCount', 'sizeLabel'],
    urls: ['downloadUrl'],
  },
};

export const TEMPLATE_NAMES = Object.keys(TEMPLATE_CATALOG);

/**
 * The catalog entry of `name`, or undefined. An own-property check, so a name from the request
 * such as `__proto__`, `constructor` or `toString` is just an unknown template (never
 * `Object.prototype` or one of its methods).
 */
export function templateSpec(name: unknown): TemplateSpec | undefined {
  return typeof name === 'string' && Object.hasOwn(TEMPLATE_CATALOG, name) ? TEMPLATE_CATALOG[name] : undefined;
}

/** The problems of `context` for `template`, as messages naming the context key. */
export function templateContextProblems(template: unknown, context: unknown): string[] {
  const spec = templateSpec(template);
  if (!spec) return [];
  if (context === undefined || context === null) context = {};
  if (typeof context !== 'object' || Array.isArray(context)) return ['context must be an object'];
  const entries = Object.entries(context as Record<string, unknown>);
  if (entries.length > EmailLimits.CONTEXT_KEYS) return [`context may hold at most ${EmailLimits.CONTEXT_KEYS} keys`];
  const known = new Set([...spec.required, ...spec.optional]);
  const problems: string[] = [];
  for (const name of spec.required) {
    const value = (context as Record<string, unknown>)[name];
    if (value === undefined || value === null || value === '')
      problems.push(`context.${name} is required by template ${template}`);
  }
  for (const [name, value] of entries) {
    if (!known.has(name))
      problems.push(`context.${name} is not used by template ${template} (it takes ${[...known].join(', ')})`);
    else if (typeof value !== 'string' && typeof value !== 'number')
      problems.push(`context.${name} must be a string or a number`);
    else if (String(value).length > EmailLimits.CONTEXT_VALUE_LENGTH)
      problems.push(`context.${name} must be at most ${EmailLimits.CONTEXT_VALUE_LENGTH} characters`);
    else if (spec.urls.includes(name) && !/^https?:\/\/[^\s]+$/i.test(String(value)))
      problems.push(`context.${name} must be an http(s) URL`);
  }
  return problems;
}

/** Validates `context` against the catalog entry of the object's `template` property. */
export function IsTemplateContext(options?: ValidationOptions) {
  return (object: object, propertyName: string) =>
    registerDecorator({
      name: 'templateContext',
      target: object.constructor,
      propertyName,
      options: {
        message: (args: ValidationArguments) =>
          templateContextProblems((args.object as { template?: unknown }).template, args.value).join('; '),
        ...options,
      },
      validator: {
        validate: (value: unknown, args: ValidationArguments) =>
          templateContextProblems((args.object as { template?: unknown }).template, value).length === 0,
      },
    });
}

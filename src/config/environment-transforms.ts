/**
 * The `@Transform` functions every environment class uses: environment variables arrive as
 * strings, and an empty one means "not set" so the property's default applies.
 */
type TransformInput = { value: unknown };

/** `"42"` → 42; anything that is not a whole number is left as is, for `@IsInt` to reject by name. */
export const toInt = ({ value }: TransformInput) =>
  value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value;

/** `""` → unset. */
export const toTrimmed = ({ value }: TransformInput) => (value === '' ? undefined : value);

/** `true`/`1` and `false`/`0` → booleans; anything else is left for `@IsBoolean` to reject. */
export const toBool = ({ value }: TransformInput) =>
  value === undefined || value === ''
    ? undefined
    : value === true || value === 'true' || value === '1'
      ? true
      : value === false || value === 'false' || value === '0'
        ? false
        : value;

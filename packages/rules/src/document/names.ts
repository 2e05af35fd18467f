/** Rule, bus, schedule, target and secret names: DNS-label-like, so they fit NATS subjects and URLs. */
export const NAME_REGEX = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';
export const MAX_NAME_LENGTH = 64;

const namePattern = new RegExp(NAME_REGEX);

/** A message saying how to fix `name`, or undefined when it is a valid name. */
export function checkName(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH)
    return `"${name}" is ${name.length} characters long; names have at most ${MAX_NAME_LENGTH}`;
  if (namePattern.test(name)) return undefined;
  const suggestion = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const hint = suggestion !== '' && namePattern.test(suggestion) ? ` such as "${suggestion}"` : '';
  return `"${name}" is not a valid name: use lowercase letters, digits and "-", starting and ending with a letter or digit${hint}`;
}

import { readFileSync } from 'node:fs';
import { CONFIGURATION_DOC, describeConfiguration, DESCRIPTIONS, renderConfigurationDoc } from './config-docs';

describe('docs/configuration.md', () => {
  const sections = describeConfiguration();
  const variables = sections.flatMap((s) => s.variables);

  it('is what `npm run docs:config` generates from the environment classes', async () => {
    const committed = readFileSync(CONFIGURATION_DOC, 'utf8');
    const generated = await renderConfigurationDoc(sections);
    // On failure: run `npm run docs:config` and commit docs/configuration.md.
    expect(committed).toBe(generated);
  });

  it('finds every section class in a *environment.ts source', () => {
    expect(sections.filter((s) => s.file === undefined).map((s) => s.className)).toEqual([]);
  });

  it('describes every variable (a TSDoc line on the property, or an entry in DESCRIPTIONS)', () => {
    expect(variables.filter((v) => !v.description).map((v) => v.name)).toEqual([]);
  });

  it('keeps no description of a variable that no longer exists', () => {
    const names = new Set(variables.map((v) => v.name));
    expect(Object.keys(DESCRIPTIONS).filter((name) => !names.has(name))).toEqual([]);
  });

  it('lists the core variables with their defaults and rules', () => {
    const port = variables.find((v) => v.name === 'PORT');
    expect(port).toMatchObject({ defaultValue: '`3000`', rule: 'integer 0–65535' });
    expect(variables.find((v) => v.name === 'LOG_FORMAT')?.rule).toBe('one of `json`, `pretty`');
    expect(variables.find((v) => v.name === 'TZ')?.rule).toContain('IANA time zone');
  });
});

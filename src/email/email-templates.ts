import Handlebars from 'handlebars';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMAIL_LOCALES, EmailLocale } from './email.environment';
import { TEMPLATE_CATALOG } from './email-template.catalog';

export interface RenderedBody {
  html: string;
  text: string;
}

type Compiled = { html: HandlebarsTemplateDelegate; text: HandlebarsTemplateDelegate | null };

/**
 * The Handlebars templates of `templates/<locale>/<name>.html.hbs`, compiled once at start.
 * Every HTML template gets a plain-text part: its `.txt.hbs` sibling when there is one, else
 * text generated from the HTML. A template of the catalog missing for a locale stops the boot.
 */
export class EmailTemplates {
  private readonly compiled = new Map<string, Compiled>();

  private constructor(private readonly dir: string) {
    const handlebars = Handlebars.create();
    const missing: string[] = [];
    for (const locale of EMAIL_LOCALES) {
      for (const name of Object.keys(TEMPLATE_CATALOG)) {
        const htmlPath = join(dir, locale, `${name}.html.hbs`);
        const textPath = join(dir, locale, `${name}.txt.hbs`);
        if (!existsSync(htmlPath)) {
          missing.push(htmlPath);
          continue;
        }
        this.compiled.set(`${locale}/${name}`, {
          html: handlebars.compile(readFileSync(htmlPath, 'utf8')),
          text: existsSync(textPath) ? handlebars.compile(readFileSync(textPath, 'utf8'), { noEscape: true }) : null,
        });
      }
    }
    if (missing.length > 0) throw new Error(`E-mail templates are missing:\n  - ${missing.join('\n  - ')}`);
  }

  /** Loads the templates next to this file (copied to `dist/email/templates` by the build). */
  static load(dir = join(__dirname, 'templates')): EmailTemplates {
    return new EmailTemplates(dir);
  }

  render(name: string, locale: EmailLocale, context: Record<string, unknown>): RenderedBody {
    const template = this.compiled.get(`${locale}/${name}`);
    if (!template) throw new Error(`No e-mail template ${name} for locale ${locale} in ${this.dir}`);
    const html = template.html(context);
    const text = template.text
      ? template
          .text(context)
          .replace(/\n{3,}/g, '\n\n')
          .trim() + '\n'
      : htmlToText(html);
    return { html, text };
  }
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#39': "'",
  '#x27': "'",
  '#x3D': '=',
  '#x60': '`',
  nbsp: ' ',
};

/** A readable plain-text rendering of simple HTML (for messages given only as HTML). */
export function htmlToText(html: string): string {
  return (
    html
      .replace(/<(head|style|script|title)[^>]*>[\s\S]*?<\/\1>/gi, '')
      .replace(/<a\s[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_, href, label) => `${label} (${href})`)
      .replace(/<br\s*\/?>/gi, '\n')
      .replace(/<\/(p|div|h[1-6]|li|tr|table|ul|ol)>/gi, '\n\n')
      .replace(/<li[^>]*>/gi, '- ')
      .replace(/<[^>]+>/g, '')
      .replace(/&(amp|lt|gt|quot|#39|#x27|#x3D|#x60|nbsp);/g, (_, entity) => ENTITIES[entity])
      .replace(/[ \t]+/g, ' ')
      .replace(/ *\n */g, '\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim() + '\n'
  );
}

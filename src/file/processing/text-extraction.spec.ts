import { ExtractionError, extractText, htmlToText } from './text-extraction';

describe('htmlToText', () => {
  it('drops scripts, styles and tags, keeps block breaks and decodes entities', () => {
    const html =
      '<html><head><title>T</title><style>p{}</style><script>alert("x")</script></head><body><h1>Tea &amp; 茶</h1><p>One&nbsp;two</p><p>&#x4E2D;&#25991;</p></body></html>';
    expect(htmlToText(html)).toBe('T\n\nTea & 茶\n\nOne two\n\n中文');
  });

  it('leaves entities named like prototype properties as text', () => {
    expect(htmlToText('<p>&constructor; &hasownproperty; &amp;</p>')).toBe('&constructor; &hasownproperty; &');
  });

  // A hand-written table knew 10 names; these stayed encoded in the search index (#21).
  it('decodes every HTML5 named entity, and legacy names without a semicolon', () => {
    expect(htmlToText('<p>Caf&eacute; &ldquo;Tea&rdquo; it&rsquo;s 5&euro; &copy 2026 &frac12;</p>')).toBe(
      'Café “Tea” it’s 5€ © 2026 ½',
    );
  });

  it('decodes entities once: an escaped entity stays an entity in the text', () => {
    expect(htmlToText('<p>&amp;lt;b&amp;gt; means &lt;b&gt;</p>')).toBe('&lt;b&gt; means <b>');
  });
});

describe('extractText', () => {
  it('reads a text file by its content even with a .pdf name', async () => {
    await expect(extractText(Buffer.from('Hello there.\n'), 'fake.pdf')).resolves.toMatchObject({
      mime: 'text/plain',
      text: 'Hello there.\n',
    });
  });

  it('refuses binary data and corrupt PDFs with a clear ExtractionError', async () => {
    await expect(extractText(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2]), 'image.png')).rejects.toThrow(
      /"image.png" is binary data of no supported type/,
    );
    const corrupt = extractText(Buffer.from('%PDF-1.4\n garbage garbage'), 'broken.pdf');
    await expect(corrupt).rejects.toBeInstanceOf(ExtractionError);
    await expect(corrupt).rejects.toThrow(/not a readable PDF/);
  });
});

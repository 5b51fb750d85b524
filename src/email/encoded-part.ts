/** A MIME body part nodemailer sends as given (`{ raw }`), headers included. */
export interface EncodedPart {
  raw: string;
}

/**
 * Encodes a text part once so that thousands of deliveries of one notification do not each
 * re-encode the same body: base64 is computed natively (quoted-printable is JavaScript in
 * nodemailer and was the largest CPU cost per message), wrapped at 76 characters per RFC 2045.
 */
export function encodedPart(contentType: 'text/plain' | 'text/html', content: string): EncodedPart {
  const base64 = Buffer.from(content, 'utf8')
    .toString('base64')
    .replace(/.{76}(?=.)/g, '$&\r\n');
  return { raw: `Content-Type: ${contentType}; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}` };
}

// A small XML reader and escaper for SOAP envelopes: elements, attributes, text, CDATA and the predefined and numeric
// entities. Names keep only their local part (WinRM's prefixes vary). A DOCTYPE or processing instruction other
// than the XML declaration is refused: SOAP forbids them, and refusing them rules out entity expansion attacks.

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function localName(qualified: string): string {
  const colon = qualified.indexOf(':');
  return colon < 0 ? qualified : qualified.slice(colon + 1);
}

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    const value = ENTITIES[entity];
    if (value === undefined) throw new Error(`unknown XML entity ${whole}`);
    return value;
  });
}

export function escapeXml(value: string): string {
  return value.replace(/[<>&"']/g, (c) => `&${Object.entries(ENTITIES).find(([, v]) => v === c)![0]};`);
}

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTRIBUTE = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export function parseXml(xml: string): XmlElement {
  const root: XmlElement = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  let at = 0;
  while (at < xml.length) {
    const open = xml.indexOf('<', at);
    const textEnd = open < 0 ? xml.length : open;
    if (textEnd > at) stack[stack.length - 1]!.text += decodeEntities(xml.slice(at, textEnd));
    if (open < 0) break;
    if (xml.startsWith('<?xml', open) && open === xml.search(/\S/)) {
      at = xml.indexOf('?>', open) + 2;
      if (at < 2) throw new Error('unterminated XML declaration');
      continue;
    }
    if (xml.startsWith('<!--', open)) {
      const end = xml.indexOf('-->', open);
      if (end < 0) throw new Error('unterminated XML comment');
      at = end + 3;
      continue;
    }
    if (xml.startsWith('<![CDATA[', open)) {
      const end = xml.indexOf(']]>', open);
      if (end < 0) throw new Error('unterminated CDATA section');
      stack[stack.length - 1]!.text += xml.slice(open + 9, end);
      at = end + 3;
      continue;
    }
    if (xml.startsWith('<!', open) || xml.startsWith('<?', open)) throw new Error('XML with a DOCTYPE or processing instruction is refused');
    TAG.lastIndex = open;
    const tag = TAG.exec(xml);
    if (!tag) throw new Error(`malformed XML at character ${open}`);
    const [, closing, name, attributeText, selfClosing] = tag;
    at = TAG.lastIndex;
    if (closing) {
      const current = stack.pop();
      if (!current || current === root || current.name !== localName(name!)) throw new Error(`unexpected closing tag </${name}>`);
      continue;
    }
    const attributes: Record<string, string> = {};
    for (const match of attributeText!.matchAll(ATTRIBUTE)) {
      attributes[localName(match[1]!)] = decodeEntities(match[2] ?? match[3] ?? '');
    }
    const element: XmlElement = { name: localName(name!), attributes, children: [], text: '' };
    stack[stack.length - 1]!.children.push(element);
    if (!selfClosing) stack.push(element);
  }
  if (stack.length !== 1) throw new Error(`unclosed XML element <${stack[stack.length - 1]!.name}>`);
  if (root.children.length !== 1) throw new Error('an XML document has exactly one root element');
  return root.children[0]!;
}

/** Every element named `name` at any depth below `element`, in document order. */
export function findAll(element: XmlElement, name: string): XmlElement[] {
  return element.children.flatMap((child) => [...(child.name === name ? [child] : []), ...findAll(child, name)]);
}

export function findFirst(element: XmlElement, name: string): XmlElement | undefined {
  return findAll(element, name)[0];
}

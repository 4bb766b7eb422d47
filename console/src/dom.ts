// The console's only way of making DOM: elements and text nodes, never HTML strings, so text
// from customers, mail and agents can never become markup.

type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;
export type Child = Node | string | number | null | undefined | false | Child[];

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value as EventListener);
    } else if (name === "class") {
      el.className = String(value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else if (name === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

// http(s) and mailto links only; anything else (javascript:, data:, …) stays text.
const LINK = /\b(?:https?:\/\/[^\s<>"'`]+|mailto:[^\s<>"'`]+)/gi;

/** A message body: its text as text nodes, with web and mail links made safe anchors. */
export function richText(text: string): DocumentFragment {
  const out = document.createDocumentFragment();
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    const start = match.index ?? 0;
    // A sentence's closing punctuation is not part of the link.
    const url = match[0].replace(/[.,;:!?)\]]+$/, "");
    out.append(text.slice(last, start));
    out.append(safeLink(url));
    last = start + url.length;
  }
  out.append(text.slice(last));
  return out;
}

export function safeLink(url: string): Node {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return document.createTextNode(url);
  }
  if (!["http:", "https:", "mailto:"].includes(parsed.protocol)) return document.createTextNode(url);
  // Opened apart from the console: no opener, no referrer carrying the ticket's URL.
  return h("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer nofollow" }, url);
}

export function field(label: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control);
}

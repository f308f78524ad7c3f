// The top-level members of a JSON object as spans of its text, so a hand-written value can have members
// removed or appended without re-encoding the rest: the user's bytes (spacing, number forms, key order) stay.

export interface MemberSpan {
  key: string;
  /** The member's text, `"key": value`, exactly as written (without the separating commas). */
  text: string;
}

/** The members of a JSON object text, or null when the text is not one object (call JSON.parse first). */
export function topLevelMembers(json: string): MemberSpan[] | null {
  const start = json.indexOf('{');
  if (start < 0 || json.slice(0, start).trim() !== '') return null;
  const members: MemberSpan[] = [];
  let depth = 0;
  let inString = false;
  let memberStart = start + 1;
  for (let i = start; i < json.length; i += 1) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i += 1;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth += 1;
    else if (c === '}' || c === ']') {
      depth -= 1;
      if (depth === 0) {
        push(members, json.slice(memberStart, i));
        return json.slice(i + 1).trim() === '' ? members : null;
      }
    } else if (c === ',' && depth === 1) {
      push(members, json.slice(memberStart, i));
      memberStart = i + 1;
    }
  }
  return null;
}

function push(members: MemberSpan[], raw: string): void {
  const text = raw.trim();
  if (text === '') return;
  const colon = keyEnd(text);
  members.push({ key: JSON.parse(text.slice(0, colon)) as string, text });
}

/** The index just past a member's key string. */
function keyEnd(text: string): number {
  for (let i = 1; i < text.length; i += 1) {
    if (text[i] === '\\') i += 1;
    else if (text[i] === '"') return i + 1;
  }
  return text.length;
}

// Names and greetings as a person's client shows them. Pure: no Nest (unit-tested).

// users.name is one field: the first word is the first name, the rest the last name.
export function splitName(name: string): { first_name: string; last_name: string } {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  return { first_name: parts[0] ?? '', last_name: parts.slice(1).join(' ') };
}

export function fillGreeting(text: string, fullName: string): string {
  const { first_name, last_name } = splitName(fullName);
  return text
    .replace(/\{\{user_first_name\}\}/g, first_name)
    .replace(/\{\{user_last_name\}\}/g, last_name)
    .replace(/\{\{user_full_name\}\}/g, fullName.trim());
}

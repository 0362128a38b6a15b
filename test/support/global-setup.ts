// Placeholder so jest's config validates on this branch; the integration tier's real setup
// (Postgres, Redis) lands from its own branch and replaces this file.
module.exports = async (): Promise<void> => {};

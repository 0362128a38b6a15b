// One pruner at a time across workers: two deleting different deliveries of one event at once would each still
// see the other's, and the event would outlive both. A two-key advisory lock, apart from single-key (hashtext) ones.
// Nest-free, so a test can hold it.
export const PRUNE_LOCK: [number, number] = [0x5357, 0x6870]; // 'SW' 'hp'

/// A snapshot of the store's size and of its last checkpoint, for `--stats` and tests.
public struct StoreStats: Sendable, Equatable {
    /// One data region: its file name (also in memory-only mode, for comparison) and size.
    public struct File: Sendable, Equatable {
        public var name: String
        public var bytes: Int
    }

    /// Live customers.
    public var customers: Int
    /// Slot indices in use or free (the upper bound of `slot(at:)`).
    public var slots: Int
    /// Slots on the free list, reused before new ones.
    public var freeSlots: Int
    /// Bytes of one slot (16 B of key and bookkeeping + the payload).
    public var slotStride: Int
    /// Index segments (4 KiB, 512 entries each) and the directory's entry count.
    public var indexSegments: Int
    public var directoryEntries: Int
    /// Bytes of the arena in use or on free lists.
    public var arenaBytes: Int
    /// The data files (or regions), in a fixed order: slots, index, arena.
    public var files: [File]
    /// (data bytes + directory bytes) / customers; 0 without customers.
    public var bytesPerCustomer: Double
    /// Sequence number of the last completed checkpoint (0: the one written at creation).
    public var checkpointSequence: UInt64
    /// Wall time of the last checkpoint, in nanoseconds.
    public var lastCheckpointNanoseconds: UInt64
    /// Dirty page bytes the last checkpoint wrote (each page once to the journal and once to
    /// its data file; this counts it once).
    public var lastCheckpointDirtyBytes: Int
}

/// Where a test makes `checkpoint(meta:)` stop, as if the process were killed there. Honoured
/// in DEBUG builds only; the store must be discarded afterwards (its memory no longer matches
/// what it believes is on disk).
enum CheckpointCrashPoint: Sendable {
    /// `journal.tmp` written and fsynced, not yet renamed: reopening gives the old checkpoint.
    case afterJournalWrite
    /// `journal` renamed into place, no data page written: reopening gives the new one.
    case afterRename
    /// About half of the dirty pages written to the data files: reopening gives the new one.
    case afterHalfThePages
}

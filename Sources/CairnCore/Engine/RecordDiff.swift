/// How the records of two versions of a pipeline over the same input differ (`cairn diff`).
///
/// Records are paired by `id`, which names the journey, step, customer, key and entry of a
/// decision and not its content: a record in both with the same text is unchanged; with other
/// text (another template, channel, data, a skip instead of an action) it is changed; one only
/// in the old output is removed, one only in the new is added.
public struct RecordDiff: Sendable {
    /// One record, as much of it as the report needs.
    public struct Record: Sendable, Equatable {
        public var text: String
        public var id: String
        public var kind: String
        public var time: String
        /// `time` in ns (Int64.min if it does not parse), for ordering.
        public var timeNS: Int64
        public var customer: String
        public var journey: String
        public var step: String
        public var channel: String
        public var template: String
        public var reason: String

        /// Reads a record line; nil when it is not a JSON object with an `id`.
        public init?(line: String) {
            guard let tree = JSONTree.parse(Array(line.utf8)), let id = tree["id"]?.string else { return nil }
            text = line
            self.id = id
            kind = tree["kind"]?.string ?? ""
            time = tree["time"]?.string ?? ""
            timeNS = Array(time.utf8).withUnsafeBytes { EventTime.parseRFC3339($0) } ?? .min
            customer = tree["customer"]?.string ?? ""
            journey = tree["journey"]?.string ?? ""
            step = tree["step"]?.string ?? ""
            channel = tree["channel"]?.string ?? ""
            template = tree["template"]?.string ?? ""
            reason = tree["reason"]?.string ?? ""
        }
    }

    /// Records of one journey, step, kind (with a skip's reason), channel and template.
    public struct Group: Sendable, Hashable, Comparable {
        public var journey: String
        public var step: String
        public var kind: String
        public var channel: String
        public var template: String

        init(_ r: Record) {
            journey = r.journey
            step = r.step
            kind = r.kind == "skip" ? "skip " + r.reason : r.kind
            channel = r.channel
            template = r.template
        }

        public static func < (a: Group, b: Group) -> Bool {
            (a.journey, a.step, a.kind, a.channel, a.template) < (b.journey, b.step, b.kind, b.channel, b.template)
        }
    }

    /// A difference: the old record, the new one, or both (changed).
    public struct Change: Sendable {
        public var before: Record?
        public var after: Record?
    }

    public var before = 0
    public var after = 0
    public var added = 0
    public var removed = 0
    public var changed = 0
    /// Customers with at least one difference.
    public var customers = 0
    /// Per group, the records before and after, for the groups whose counts differ, in order.
    public var groups: [(group: Group, before: Int, after: Int)] = []
    /// Every difference, earliest first (by time, customer, journey, step, then id).
    public var changes: [Change] = []

    public var isEmpty: Bool { changes.isEmpty }

    /// Compares the record lines of the old and the new version.
    public static func compare(old: [String], new: [String]) -> RecordDiff {
        let oldRecords = old.compactMap(Record.init(line:))
        let newRecords = new.compactMap(Record.init(line:))
        var diff = RecordDiff()
        diff.before = oldRecords.count
        diff.after = newRecords.count
        var counts: [Group: (Int, Int)] = [:]
        for r in oldRecords { counts[Group(r), default: (0, 0)].0 += 1 }
        for r in newRecords { counts[Group(r), default: (0, 0)].1 += 1 }
        diff.groups = counts.filter { $0.value.0 != $0.value.1 }.sorted { $0.key < $1.key }
            .map { (group: $0.key, before: $0.value.0, after: $0.value.1) }
        // Pair by id (in order of appearance, should an id repeat).
        var byID: [String: [Int]] = [:]
        for (i, r) in newRecords.enumerated() { byID[r.id, default: []].append(i) }
        var used = [Bool](repeating: false, count: newRecords.count)
        for r in oldRecords {
            if var list = byID[r.id], let j = list.first {
                list.removeFirst()
                byID[r.id] = list
                used[j] = true
                if newRecords[j].text != r.text {
                    diff.changed += 1
                    diff.changes.append(Change(before: r, after: newRecords[j]))
                }
            } else {
                diff.removed += 1
                diff.changes.append(Change(before: r, after: nil))
            }
        }
        for (j, r) in newRecords.enumerated() where !used[j] {
            diff.added += 1
            diff.changes.append(Change(before: nil, after: r))
        }
        func key(_ c: Change) -> (Int64, String, String, String, String) {
            let r = c.before ?? c.after!
            return (r.timeNS, r.customer, r.journey, r.step, r.id)
        }
        diff.changes.sort { key($0) < key($1) }
        diff.customers = Set(diff.changes.map { ($0.before ?? $0.after!).customer }).count
        return diff
    }
}

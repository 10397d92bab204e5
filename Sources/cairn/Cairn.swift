import ArgumentParser

@main
struct Cairn: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "Customer journey orchestration for the Unix pipeline.",
        discussion: """
            cairn reads newline-delimited JSON events (plain or zstd-compressed), runs the \
            journeys of a pipeline file over them in event time, and writes NDJSON decision \
            records (actions to send, skips with their reasons, entries, exits, goals) on \
            standard output, for jq and delivery systems.

            Examples:
              cairn run pipelines/shop.yaml samples/shop.ndjson
              zstdcat events-*.ndjson.zst | cairn run pipelines/shop.yaml | jq .
              cairn run pipelines/shop.yaml archive/*.zst --state st/ > out.ndjson
              cairn state show --state st/ c-000017
              cairn check pipelines/
              cairn test pipelines/
              cairn diff old.yaml new.yaml samples/shop.ndjson

            \(ExitStatus.helpText)
            """,
        version: "0.1.0",
        subcommands: [RunCommand.self, CheckCommand.self, TestCommand.self, EvalCommand.self, StateCommand.self, DiffCommand.self]
    )
}

// Package collector fills the cost store from the clouds' own billing
// data and inventories.
//
// A Source (FOCUS files, the AWS CUR, the GCP BigQuery export, a Terraform
// state, ...) reads its data and hands it to a Sink in store partitions:
// one (source, billing account, billing period) at a time, with the
// export id it came from and a hash of the bytes read. Run drives the
// sources against a Store: unchanged exports are skipped, a restated
// month replaces its partition in one commit, the open month is read again
// on every run, and an error leaves the partitions it touches exactly as
// they were while the others still load.
//
// File-based sources describe what they offer as Exports and let
// LoadExports decide what to read: it keeps the link between exports and
// partitions in the store itself (each partition's export id lists the
// exports it was built from), so there is no sync state beside the store
// to drift from it.
//
// The sources live in subpackages (focus, aws, tfstate, ...) and are
// registered by their config type name in a Registry that cmd/costgate
// builds (sourceRegistry in cmd/costgate/config_sources.go).
//
// Adding a source type:
//   - Implement Source. A query-based source (the BigQuery export) asks
//     sink.Known for the export id and content hash of each partition it
//     holds, decides per (billing account, invoice month) what changed
//     (e.g. a newer export_time), and calls sink.Replace with the whole
//     partition; sink.Fail leaves a partition as it was. An inventory
//     source (the tagging API) calls sink.Inventory once with every
//     resource it saw; first and last seen are kept by the sink.
//   - A file-based source lists its exports and lets LoadExports decide.
//   - Give it a Factory (Check names a bad key with a *FieldError) and
//     register it by type name; Spec already carries the config keys of
//     the fixed sources: shape (path, uri, region, regions, endpoint,
//     profile, project, dataset, table, location, ...).
//   - Count progress on sink.Progress() (Plan, AddBytes, AddRows,
//     FileDone) for the terminal status line.
package collector

// Package store is costgate's embedded cost store: billing line items and
// inventory resources in immutable, checksummed segment files with
// dictionary-coded columns, roaring bitmaps per dimension value, exact
// money columns and bit-sliced indexes for the main cost measures.
//
// A directory holds the segments and a MANIFEST naming the live ones under
// a generation number. Replace swaps one partition (source, billing
// account, billing period) in a single manifest commit (write temp, fsync,
// rename, fsync directory); readers pin a generation and never see a
// half-replaced period; segments no reader needs are deleted, and files a
// crash left behind are removed at Open. ReplaceSource does the same with
// rows read one at a time from a costgate.LineItemSource, for callers that
// keep rows in a compact form of their own. A Txn (Store.Begin) groups
// replaces of several partitions into one manifest commit: readers see
// all of them change at once or none, and a crash leaves all old or all
// new.
//
// Replaces of different partitions may run concurrently. At most
// Options.Builds of them build at once (CPU and memory); a replace gives
// its build slot up once its segment is written and waits for the fsync
// and the manifest commit without it, so a caller that runs one more
// replace than there are slots (collect runs three) keeps the CPUs busy
// while a finished segment reaches the disk. A store that syncs starts
// the kernel's writeback as a segment is written, every 8 MiB.
//
// Rows of a segment are sorted by (day, billing account, service,
// resource). Line-item segments (format version 2) also carry a run
// index: each run of rows with one day, account and service, and the
// run's total of every measure. A query that groups and filters by
// nothing finer than those (daily cost by service over a date range, say)
// sums runs instead of rows; any other query reads the rows. Version 1
// segments, written before the run index, are still read.
//
// A segment writes a block once however many columns hold the same bytes
// (null columns, a column with one value on every row, ContractedCost
// equal to BilledCost): each column keeps its own reference, so readers
// do not know. Coded sources (costgate.CodedLineItemSource) hand string
// fields as ids into their tables and may name Tags maps by id
// (costgate.CodedRow.TagsID); a partition's strings are then coded
// without hashing a value per row.
//
// See ../../shared/STORE.md for the design and the measured targets.
package store

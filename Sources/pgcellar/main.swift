import CellarCommands
import CellarSupport

// All of pgcellar lives in libraries; this is the entry point only.
// Before any thread starts: see LargeBuffers.shareAllocatorArenas.
LargeBuffers.shareAllocatorArenas()
PgCellar.main()

import CellarCommands

// All of pgcellar lives in libraries; this is the entry point only.
PgCellar.main()

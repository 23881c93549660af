from dlp_gateway.cli import main

if __name__ == "__main__":  # scan workers are spawned processes: they must not run the CLI again
    raise SystemExit(main())

"""TCL Python utilities: workload generation, import, reports and plots."""

#pragma once
// Makes sure the helper runs from a sealed in-memory copy of itself, so nothing
// inside a container can ever open its executable for writing (CVE-2019-5736).
// Re-executes itself when needed; returns only when already sealed.
void ensure_sealed(char **argv, char **envp);

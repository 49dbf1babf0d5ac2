#!/usr/bin/env bash
# Adds an EF Core migration for both providers (SQLite and PostgreSQL), which must always move together.
# Usage: scripts/add-migration.sh <Name>
set -euo pipefail
cd "$(dirname "$0")/../src/Entourage.Server"
name="${1:?usage: scripts/add-migration.sh <Name>}"
dotnet tool restore >/dev/null
dotnet ef migrations add "$name" --context SqliteDbContext --output-dir Storage/Migrations/Sqlite
dotnet ef migrations add "$name" --context PostgresDbContext --output-dir Storage/Migrations/Postgres

using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class RunnerNodes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "repo_url",
                table: "teams",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "stopped_at",
                table: "nodes",
                type: "timestamp with time zone",
                nullable: true);

            // A turn ending frees a slot of its team and of the cluster: wake every node's dispatcher (runners
            // blocked on a limit included) instead of leaving them to the fallback poll. Same empty doorbell.
            migrationBuilder.Sql("""
                CREATE TRIGGER trg_turns_ended_notify
                AFTER UPDATE OF state ON turns
                FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state <> 'running') EXECUTE FUNCTION entourage_dispatch_notify();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS trg_turns_ended_notify ON turns;");

            migrationBuilder.DropColumn(
                name: "repo_url",
                table: "teams");

            migrationBuilder.DropColumn(
                name: "stopped_at",
                table: "nodes");
        }
    }
}

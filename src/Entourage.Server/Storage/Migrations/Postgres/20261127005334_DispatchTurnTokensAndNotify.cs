using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DispatchTurnTokensAndNotify : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "token_hash",
                table: "turns",
                type: "text",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_turns_token_hash",
                table: "turns",
                column: "token_hash");

            // The doorbell of DESIGN §4: a request that becomes pending (inserted, or returned by the sweeper)
            // wakes the dispatchers of all nodes. The payload is empty on purpose (PostgreSQL folds identical
            // notifications of one transaction into one); the claim query is the only source of truth.
            migrationBuilder.Sql("""
                CREATE OR REPLACE FUNCTION entourage_dispatch_notify() RETURNS trigger AS $$
                BEGIN
                    PERFORM pg_notify('entourage_dispatch', '');
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                """);
            migrationBuilder.Sql("""
                CREATE TRIGGER trg_dispatch_requests_notify
                AFTER INSERT OR UPDATE OF state ON dispatch_requests
                FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION entourage_dispatch_notify();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS trg_dispatch_requests_notify ON dispatch_requests;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS entourage_dispatch_notify();");

            migrationBuilder.DropIndex(
                name: "ix_turns_token_hash",
                table: "turns");

            migrationBuilder.DropColumn(
                name: "token_hash",
                table: "turns");
        }
    }
}

using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DispatchNotifyAtCommit : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // The doorbell rings at commit, and only for a request still pending then. A request claimed in the
            // transaction that created it (a dependent's turn claimed with the "done" that made it ready) woke every
            // node's dispatcher for nothing: its NOTIFY went out with the COMMIT, and the listeners' wake-up and the
            // passes that found nothing ran on the same cores as the commit itself. A deferred constraint trigger
            // fires after the transaction's own statements and before its NOTIFYs are sent, so it sees the state the
            // commit makes visible.
            // A function of its own: entourage_dispatch_notify() also serves the turns table's trigger (a turn's end).
            migrationBuilder.Sql("""
                CREATE FUNCTION entourage_dispatch_notify_if_pending() RETURNS trigger AS $$
                BEGIN
                    IF EXISTS (SELECT 1 FROM dispatch_requests r WHERE r.id = NEW.id AND r.state = 'pending') THEN
                        PERFORM pg_notify('entourage_dispatch', '');
                    END IF;
                    RETURN NULL;
                END;
                $$ LANGUAGE plpgsql;
                """);
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS trg_dispatch_requests_notify ON dispatch_requests;");
            migrationBuilder.Sql("""
                CREATE CONSTRAINT TRIGGER trg_dispatch_requests_notify
                AFTER INSERT OR UPDATE OF state ON dispatch_requests
                DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION entourage_dispatch_notify_if_pending();
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Back to the immediate trigger of DispatchTurnTokensAndNotify.
            migrationBuilder.Sql("DROP TRIGGER IF EXISTS trg_dispatch_requests_notify ON dispatch_requests;");
            migrationBuilder.Sql("DROP FUNCTION IF EXISTS entourage_dispatch_notify_if_pending();");
            migrationBuilder.Sql("""
                CREATE TRIGGER trg_dispatch_requests_notify
                AFTER INSERT OR UPDATE OF state ON dispatch_requests
                FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION entourage_dispatch_notify();
                """);
        }
    }
}

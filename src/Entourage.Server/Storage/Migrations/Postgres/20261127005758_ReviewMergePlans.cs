using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Entourage.Server.Storage.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ReviewMergePlans : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "plan_id",
                table: "tasks",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "body",
                table: "reviews",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "base_sha",
                table: "merge_queue",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "candidate_sha",
                table: "merge_queue",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "phase",
                table: "merge_queue",
                type: "text",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "plans",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    team_id = table.Column<Guid>(type: "uuid", nullable: false),
                    parent_task_id = table.Column<long>(type: "bigint", nullable: true),
                    proposed_by_agent_id = table.Column<Guid>(type: "uuid", nullable: true),
                    state = table.Column<string>(type: "text", nullable: false),
                    feedback = table.Column<string>(type: "text", nullable: true),
                    decided_by = table.Column<string>(type: "text", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    decided_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_plans", x => x.id);
                    table.ForeignKey(
                        name: "fk_plans_teams_team_id",
                        column: x => x.team_id,
                        principalTable: "teams",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_tasks_plan_id",
                table: "tasks",
                column: "plan_id");

            migrationBuilder.CreateIndex(
                name: "ix_plans_team_id_state",
                table: "plans",
                columns: new[] { "team_id", "state" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "plans");

            migrationBuilder.DropIndex(
                name: "ix_tasks_plan_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "plan_id",
                table: "tasks");

            migrationBuilder.DropColumn(
                name: "body",
                table: "reviews");

            migrationBuilder.DropColumn(
                name: "base_sha",
                table: "merge_queue");

            migrationBuilder.DropColumn(
                name: "candidate_sha",
                table: "merge_queue");

            migrationBuilder.DropColumn(
                name: "phase",
                table: "merge_queue");
        }
    }
}

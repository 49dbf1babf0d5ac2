using Bunit;
using Entourage.Client.Contracts;
using Entourage.Server.Dashboard.Components;
using Entourage.Server.Dashboard.Data;

namespace Entourage.Dashboard.Tests.Components;

public sealed class ReviewAndRequestTests : ComponentTestBase
{
    private const string Diff = """
        diff --git a/src/api.py b/src/api.py
        index 1111111..2222222 100644
        --- a/src/api.py
        +++ b/src/api.py
        @@ -10,3 +10,4 @@ def profile():
             user = load()
        -    return user
        +    if user is None:
        +        abort(404)
             return user
        """;

    [Fact]
    public void Diff_lines_know_their_file_and_new_line_number()
    {
        var lines = DiffLines.Parse(Diff);
        lines[0].Kind.ShouldBe(DiffLines.Kind.File);
        lines[0].File.ShouldBe("src/api.py");
        var added = lines.Where(l => l.Kind == DiffLines.Kind.Add).ToList();
        added.Select(l => l.NewLine).ShouldBe([11, 12]);
        lines.Single(l => l.Kind == DiffLines.Kind.Del).OldLine.ShouldBe(11);
        lines.Last(l => l.Kind == DiffLines.Kind.Context).NewLine.ShouldBe(13);
    }

    [Fact]
    public void Review_shows_each_comment_under_its_line_and_keeps_unmatched_ones()
    {
        var review = new ReviewRow(1, ReviewState.ChangesRequested, Diff, "Handle missing users", "alice", DateTime.UtcNow, null,
        [
            new ReviewCommentRow(1, "src/api.py", 12, "Use a problem response, not a bare 404.", "alice", DateTime.UtcNow),
            new ReviewCommentRow(2, "README.md", 3, "Document the endpoint.", "alice", DateTime.UtcNow),
        ]);
        var cut = Render<ReviewPanel>(p => p.Add(x => x.Review, review));
        cut.Find("[data-testid=review-state]").TextContent.ShouldBe("changes requested");
        var comments = cut.FindAll("[data-testid=review-comment]");
        comments.Count.ShouldBe(2);
        // The first comment follows the "abort(404)" line (new line 12).
        comments[0].PreviousElementSibling!.TextContent.ShouldContain("abort(404)");
        comments[1].TextContent.ShouldContain("README.md:3");
    }

    [Fact]
    public void Choice_request_offers_its_options_and_answers_with_the_one_clicked()
    {
        string? answered = null;
        var request = new HumanRequestRow(5, Guid.NewGuid(), "Platform", "eng-backend", 2, "API", HumanRequestKind.Choice,
            "Which database?", ["postgres", "sqlite"], DateTime.UtcNow);
        var cut = Render<HumanRequestCard>(p => p
            .Add(x => x.Request, request)
            .Add(x => x.OnAnswer, (string a) => answered = a));
        var options = cut.FindAll("[data-testid=option]");
        options.Select(o => o.TextContent.Trim()).ShouldBe(["postgres", "sqlite"]);
        options[1].Click();
        answered.ShouldBe("sqlite");
    }

    [Fact]
    public void Approval_request_approves_in_one_click()
    {
        string? answered = null;
        var request = new HumanRequestRow(6, Guid.NewGuid(), "Platform", "manager", null, null, HumanRequestKind.Approval,
            "Approve the plan?", [], DateTime.UtcNow);
        var cut = Render<HumanRequestCard>(p => p.Add(x => x.Request, request).Add(x => x.OnAnswer, (string a) => answered = a));
        cut.Find("[data-testid=approve]").Click();
        answered.ShouldBe(HumanRequestCard.Approve);
    }

    [Fact]
    public void Task_card_says_why_it_is_not_running()
    {
        var card = new TaskCard(3, "Build profile page", TaskPriority.High, TaskType.Feature, TaskState.Todo, TaskLook.Waiting, 1, null, "eng-frontend", [2], "waiting for #2", DateTime.UtcNow);
        var cut = Render<TaskCardView>(p => p.Add(x => x.Task, card));
        cut.Find("[data-testid=why]").TextContent.ShouldBe("waiting for #2");
        cut.Find("a.task-card").GetAttribute("href").ShouldBe("/tasks/3");
    }
}

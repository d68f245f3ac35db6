using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Slipway.Contracts;

/// <summary>
/// A plan field that holds PipelineLib runtime outputs (<c>${lint.output}</c>, <c>${publish.imageTag}</c>, ...): literal
/// text and references, in order. The planner checked every reference (an ancestor stage or this one, an output that
/// stage's steps produce); the service performing the step that uses the field resolves it from the run's recorded
/// step results, at most <see cref="MaxResolvedChars"/> characters. A resolved value is data: it is never interpolated again.
/// </summary>
[Description("A field holding PipelineLib runtime outputs: literal text and checked references to earlier steps' results, resolved by the service performing the step that uses it (at most 65536 characters resolved; resolved values are never interpolated again).")]
public sealed record RuntimeTemplate
{
    /// <summary>Most parts one template holds.</summary>
    public const int MaxParts = 256;

    /// <summary>Most characters a resolved value may have; a longer one fails the step that uses it.</summary>
    public const int MaxResolvedChars = 65_536;

    /// <summary>The parts, in order; each has either <see cref="RuntimeTemplatePart.Text"/> or <see cref="RuntimeTemplatePart.Output"/>.</summary>
    [Description("The parts in order; each has either text or output.")]
    [MinLength(1), MaxLength(MaxParts)]
    public required IReadOnlyList<RuntimeTemplatePart> Parts { get; init; }
}

/// <summary>One part of a <see cref="RuntimeTemplate"/>: literal text, or a reference to a step's output.</summary>
[Description("Literal text (text) or a reference to an earlier step's output (output).")]
public sealed record RuntimeTemplatePart
{
    /// <summary>Literal text, already interpolated at planning.</summary>
    [Description("Literal text, interpolated at planning.")]
    [MaxLength(RuntimeTemplate.MaxResolvedChars)]
    public string? Text { get; init; }

    /// <summary>A step output resolved when the step that uses the field runs.</summary>
    [Description("A step output, resolved when the step using the field runs.")]
    public RuntimeOutputReference? Output { get; init; }

    /// <summary>In a <see cref="RuntimeComprehension"/>'s <c>yield</c>: the comprehension variable (PipelineLib's <c>${.name}</c>).</summary>
    [Description("In a comprehension's yield only: the comprehension variable (${.name}) bound to the current item.")]
    [RegularExpression("^[A-Za-z0-9_-]+$"), MaxLength(128)]
    public string? Local { get; init; }
}

/// <summary>
/// PipelineLib's <c>$each</c>/<c>$in</c>/<c>$yield</c> over a runtime output (<c>$in: '${sequence.output}'</c>): expanded,
/// as PipelineLib expands it, when the step runs: <see cref="In"/> resolved and split on any character of
/// <see cref="Delimiter"/> (Groovy's tokenize), each token bound to <see cref="Each"/> (several names: split on spaces),
/// and <see cref="Yield"/> resolved once per token. At most <see cref="MaxItems"/> items.
/// </summary>
[Description("PipelineLib $each/$in/$yield over a runtime output, expanded when the step runs: in resolved and split on any delimiter character, each token bound to each (several names: split on spaces), yield resolved per token; at most 1000 items.")]
public sealed record RuntimeComprehension
{
    /// <summary>Most items one comprehension yields (as PipelineLib's planning-time limit in Slipway).</summary>
    public const int MaxItems = 1000;

    /// <summary>The variable names.</summary>
    [MinLength(1), MaxLength(16)]
    public required IReadOnlyList<string> Each { get; init; }

    /// <summary>The characters the input is split on (PipelineLib's <c>$delimiter</c>, default a line break).</summary>
    [MinLength(1), MaxLength(64)]
    public required string Delimiter { get; init; }

    /// <summary>The input, holding runtime outputs.</summary>
    public required RuntimeTemplate In { get; init; }

    /// <summary>One item; its <see cref="RuntimeTemplatePart.Local"/> parts take the current token's values.</summary>
    public required RuntimeTemplate Yield { get; init; }
}

/// <summary>A reference to one output of one step of the run (PipelineLib's <c>${&lt;stage&gt;.&lt;name&gt;}</c>).</summary>
[Description("A reference to one output of one step (PipelineLib ${<stage>.<name>}).")]
public sealed record RuntimeOutputReference
{
    /// <summary>The stage whose output it is.</summary>
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Stage { get; init; }

    /// <summary>
    /// The output: <c>output</c> (run), <c>imageID</c>, <c>imageLocalName</c> (build), <c>imageName</c>,
    /// <c>imageFullName</c>, <c>imageTag</c>, <c>imageTags</c>, <c>publishedImage</c> (publish), <c>artifactURLs</c> (the run
    /// step's <c>copy</c>: one link per entry, see <see cref="ArtifactBaseUrl"/>).
    /// </summary>
    [Description("output, artifactURLs (run step); imageID, imageLocalName (build step); imageName, imageFullName, imageTag, imageTags, publishedImage (publish step).")]
    [RegularExpression("^(output|artifactURLs|imageID|imageLocalName|imageName|imageFullName|imageTag|imageTags|publishedImage)$")]
    public required string Name { get; init; }

    /// <summary>
    /// For <c>artifactURLs</c> only: where the reporter is reached (the operator's <c>Pipeline:ArtifactBaseUrl</c>, fixed at
    /// planning), which the links to <c>/runs/&lt;run&gt;/artifacts/&lt;stage&gt;/&lt;path&gt;</c> start with.
    /// </summary>
    [Description("For artifactURLs only: the reporter's base URL (operator setting Pipeline:ArtifactBaseUrl) the artifact links start with.")]
    [MaxLength(512)]
    public string? ArtifactBaseUrl { get; init; }

    /// <summary>The step whose finishing event holds the value.</summary>
    [Description("The step whose finishing event holds the value.")]
    [RegularExpression(ContractPatterns.Name), MaxLength(128)]
    public required string Step { get; init; }

    /// <summary>PipelineLib's <c>${x|default}</c>: used when the value is empty.</summary>
    [Description("PipelineLib's ${x|default}: used when the resolved value is empty.")]
    [MaxLength(4096)]
    public string? Default { get; init; }
}

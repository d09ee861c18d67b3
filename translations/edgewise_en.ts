<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>ew::ui::AboutDialog</name>
    <message>
        <source>About Edgewise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;A workbench for inspecting, optimizing and deploying neural-network models.&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;p&gt;Built with Qt %1, running on Qt %2 (%3).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Bundled sample model&lt;/h3&gt;&lt;p&gt;&lt;b&gt;digits_cnn.onnx&lt;/b&gt; was made by the Edgewise team: a small CNN trained on scikit-learn&apos;s &lt;i&gt;load_digits&lt;/i&gt;, a copy of the UCI Optical Recognition of Handwritten Digits data set, licensed under &lt;a href=&quot;https://creativecommons.org/licenses/by/4.0/&quot;&gt;CC BY 4.0&lt;/a&gt; (E. Alpaydin, C. Kaynak).&lt;/p&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;h3&gt;Third-party software&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Qt 6: LGPL-3.0&lt;/li&gt;&lt;li&gt;QCustomPlot: GPL-3.0&lt;/li&gt;&lt;li&gt;ONNX: Apache-2.0&lt;/li&gt;&lt;li&gt;Protocol Buffers: BSD-3-Clause&lt;/li&gt;&lt;li&gt;FlatBuffers: Apache-2.0&lt;/li&gt;&lt;li&gt;Eigen: MPL-2.0&lt;/li&gt;&lt;/ul&gt;</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::Format</name>
    <message>
        <source>unknown rank</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphExport</name>
    <message>
        <source>%1: unknown image format; use .png or .svg</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: there is no graph to export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: the image (%2 x %3 pixels) does not fit in memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Edgewise graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The visible part of the graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>The whole graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot write %1: the SVG generator could not start</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphPage</name>
    <message>
        <source>Lay Out Again</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Fit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the whole graph (0)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Selection</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom to the selected node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>100%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Actual size (1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shapes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show tensor shapes on the edges</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Groups</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expand or collapse the name scopes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expand All</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collapse All</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Default Grouping</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collapse groups as when the model was opened</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Canvas options</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom In</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom Out</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Minimap</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Legend</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>View as PNG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>View as SVG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole Graph as PNG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Whole Graph as SVG…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the view or the whole graph as PNG or SVG</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a model to see its graph.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Laying out the graph…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Graph Layout</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layout cancelled; the previous drawing stays.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Layout cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot lay out the graph: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model open</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) shown</source>
        <translation>
            <numerusform>%1 of %n node shown</numerusform>
            <numerusform>%1 of %n nodes shown</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n edge(s)</source>
        <translation>
            <numerusform>%n edge</numerusform>
            <numerusform>%n edges</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n group(s), %1 collapsed</source>
        <translation>
            <numerusform>%n group, %1 collapsed</numerusform>
            <numerusform>%n groups, %1 collapsed</numerusform>
        </translation>
    </message>
    <message>
        <source>layout %1 ms</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>zoom %1%</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Laying out…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Expand Group</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collapse Group</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zoom to Node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Collapse Its Group</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Exported the graph to %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Export Graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>SVG drawings (*.svg)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export Graph</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphScene</name>
    <message numerus="yes">
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n node</numerusform>
            <numerusform>%n nodes</numerusform>
        </translation>
    </message>
    <message>
        <source>Inputs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outputs:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Graph input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Graph output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Initializer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Double-click to expand</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Double-click the header to collapse</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphSearch</name>
    <message>
        <source>weights %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>input %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>output %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Search nodes, ops, tensors…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Find nodes by name or op type and tensors by name (Ctrl+F)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No matches</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>First %n match(es)</source>
        <translation>
            <numerusform>First match</numerusform>
            <numerusform>First %n matches</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n match(es)</source>
        <translation>
            <numerusform>%n match</numerusform>
            <numerusform>%n matches</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::InspectorPanel</name>
    <message>
        <source>initializer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Constant node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>quantized, dequantized by %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 (quantized)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>attribute %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>This node has no constant inputs.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>quantization channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>output channel of %1</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::LogPanel</name>
    <message>
        <source>debug</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>info</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>warning</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>error</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::MainWindow</name>
    <message>
        <source>Edgewise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overview</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Ready. Open a model with File &gt; Open or drop one here.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Sample Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open the bundled digits_cnn.onnx example</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save the model to a new file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Export to ONNX…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the model as an ONNX file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Close Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Clear Recent Files</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;About Edgewise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model Summary</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Optimize…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Simplify and fuse the graph with the optimizer&apos;s passes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Optimize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Main</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Models (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Model As</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Export to ONNX</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>ONNX models (*.onnx)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to open %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to save %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving %1…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opening Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Stage: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading %1 was cancelled; the previous model stays open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loading cancelled</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Open Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not open %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saving %1 was cancelled.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Save Model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not save %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 — Edgewise</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%1 · %n node(s)</source>
        <translation>
            <numerusform>%1 · %n node</numerusform>
            <numerusform>%1 · %n nodes</numerusform>
        </translation>
    </message>
    <message>
        <source>Closed %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Selected %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(no recent files)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Open Sample</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not copy the sample model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load &amp;Overlay…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Colour the nodes by per-node values from a JSON file (latency, error, …)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlays</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load Overlay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay files (*.json)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: open a model before loading an overlay for it</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not load overlay %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Load Overlay</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not load the overlay %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Loaded overlay &quot;%1&quot; from %2: %n node(s)</source>
        <translation>
            <numerusform>Loaded overlay &quot;%1&quot; from %2: %n node</numerusform>
            <numerusform>Loaded overlay &quot;%1&quot; from %2: %n nodes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1: %n name(s) are not nodes of this model: %2</source>
        <translation>
            <numerusform>%1: %n name is not a node of this model: %2</numerusform>
            <numerusform>%1: %n names are not nodes of this model: %2</numerusform>
        </translation>
    </message>
    <message>
        <source>Showing overlay %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Graph</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::Minimap</name>
    <message>
        <source>Overview: click or drag to move the view</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeListPanel</name>
    <message>
        <source>Filter by name, op or shape…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model open</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n node</numerusform>
            <numerusform>%n nodes</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) match</source>
        <translation>
            <numerusform>%1 of %n node matches</numerusform>
            <numerusform>%1 of %n nodes match</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeTableModel</name>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>#</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Op</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output shapes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 %3</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::OpLegend</name>
    <message>
        <source>Convolution</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Matrix</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Activation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Normalization</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Elementwise</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shape / tensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Control flow</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Custom</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Other</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::Overlay</name>
    <message>
        <source>%1: not valid JSON: %2 at offset %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: the top level must be a JSON object with &quot;name&quot;, &quot;unit&quot; and &quot;values&quot;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: &quot;name&quot; must be a string, not %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: &quot;unit&quot; must be a string, not %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: missing &quot;values&quot; (an object mapping node names to numbers)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: &quot;values&quot; must be an object mapping node names to numbers, not %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: &quot;values&quot; is empty</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source> and %1 more</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2 value(s) in &quot;values&quot; are not numbers: %3</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: cannot read: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: too large for an overlay (%2; at most %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::OverlayLegend</name>
    <message>
        <source>This overlay has no values for this model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No overlay shown</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>log scale</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::OverlayPanel</name>
    <message>
        <source>Load…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Load an overlay from a JSON file: { &quot;name&quot;: …, &quot;unit&quot;: …, &quot;values&quot;: { &quot;node name&quot;: number } }</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes below the threshold are not highlighted</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Spread values that span orders of magnitude (all values must be positive)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Op</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Overlay:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Threshold:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>None</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (built-in)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computed from the model</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Pick an overlay to colour the nodes by a per-node value.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open a model to use overlays.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Highlighting %1 of %n node(s): value ≥ %2</source>
        <translation>
            <numerusform>Highlighting %1 of %n node: value ≥ %2</numerusform>
            <numerusform>Highlighting %1 of %n nodes: value ≥ %2</numerusform>
        </translation>
    </message>
    <message>
        <source>Built-in overlay, computed from the model.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Loaded from %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n name(s) in the file are not nodes of this model.</source>
        <translation>
            <numerusform>%n name in the file is not a node of this model.</numerusform>
            <numerusform>%n names in the file are not nodes of this model.</numerusform>
        </translation>
    </message>
    <message>
        <source>Value (%1)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::OverviewPage</name>
    <message numerus="yes">
        <source>other (%n type(s))</source>
        <translation>
            <numerusform>other (%n type)</numerusform>
            <numerusform>other (%n types)</numerusform>
        </translation>
    </message>
    <message>
        <source>No model open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model with File &gt; Open (Ctrl+O), pick one from File &gt; Open Recent, or drop a model file onto this window.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Open Model…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs per inference</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Weights in memory</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>≥ marks a lower bound: symbolic or unknown dimensions (such as a batch size N) are counted as 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No multiply-accumulate ops in this graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IR version %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>opsets: %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>produced by %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (+%2 nested)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes per op type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>GMACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MMACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>kMACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs per op type (%1 total)</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::PropertiesPanel</name>
    <message>
        <source>Property</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Elements</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Std dev</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sparsity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 % zeros (%2 of %3)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NaN / inf</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Shape</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>graph input</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>output of %1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>value of the enclosing graph</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>not produced by any node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Source</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>graph output</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>unused</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source> and %n more</source>
        <translation>
            <numerusform> and %n more</numerusform>
            <numerusform> and %n more</numerusform>
        </translation>
    </message>
    <message>
        <source>Used by</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;i&gt;Select a node in the node list to see its attributes, inputs and weights.&lt;/i&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>&lt;i&gt;No model open.&lt;/i&gt;</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Name</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Op type</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Domain</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>FLOPs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Subgraphs</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>%n subgraph(s)</source>
        <translation>
            <numerusform>%n subgraph</numerusform>
            <numerusform>%n subgraphs</numerusform>
        </translation>
    </message>
    <message>
        <source>Documentation</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Attributes (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(none)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Inputs (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: (omitted)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outputs (%1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>initializer (weight)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Zero point</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 … %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>all 0</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>all %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Channel</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>per tensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>per channel, axis %1, %n channel(s)</source>
        <translation>
            <numerusform>per channel, axis %1, %n channel</numerusform>
            <numerusform>per channel, axis %1, %n channels</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::SummaryPanel</name>
    <message>
        <source>Field</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No model open</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Format</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>File size</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>IR version</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Opsets</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Producer</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>(not recorded)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Inputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Outputs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Nodes incl. subgraphs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>MACs</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Op types</source>
        <translation type="unfinished"></translation>
    </message>
</context>
<context>
    <name>ew::ui::TensorView</name>
    <message>
        <source>Constant inputs of the selected node</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Tensor:</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Max</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Mean</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Std dev</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Sparsity</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NaN / inf</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computing statistics…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Logarithmic count axis: rare outlier values stay visible</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Dequantize</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show (value − zero point) × scale instead of the stored integers</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy Values</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Copy the values as tab-separated text (at most %L1 values)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save as .npy…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 %2 · %3 values (%4) · %5</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>quantized per channel (axis %1, %2 channels)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>quantized: scale %1, zero point %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computing statistics of %1 values…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Computing…</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 % zeros</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 of %2 values are exactly zero</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Histogram</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Per-channel range</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No finite values to plot</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>count</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>value (dequantized)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>value</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>count (log)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Histogram (one bin per value)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Histogram (%n bin(s))</source>
        <translation>
            <numerusform>Histogram (%n bin)</numerusform>
            <numerusform>Histogram (%n bins)</numerusform>
        </translation>
    </message>
    <message>
        <source>Per-channel ranges need a tensor of rank 2 or more</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>No per-channel ranges for this tensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>min</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>max</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NumPy has no standard type for %1</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Write the tensor as stored to a NumPy .npy file</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Save Tensor as .npy</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>NumPy arrays (*.npy)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Cannot Save Tensor</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Could not save %1.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>channel (axis %1)</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>%1 (axis %2)</source>
        <translation type="unfinished"></translation>
    </message>
    <message numerus="yes">
        <source>Min/max per channel (%n channel(s))</source>
        <translation>
            <numerusform>Min/max per channel (%n channel)</numerusform>
            <numerusform>Min/max per channel (%n channels)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Edgewise: inspect and optimize neural-network models.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Model file to open (.onnx, .tflite).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>User interface language, e.g. de or en (default: EDGEWISE_LANG, then the system locale).</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>Show the per-node values of this overlay JSON file once the model is open.</source>
        <translation type="unfinished"></translation>
    </message>
    <message>
        <source>--overlay %1 needs a model to show it on</source>
        <translation type="unfinished"></translation>
    </message>
</context>
</TS>

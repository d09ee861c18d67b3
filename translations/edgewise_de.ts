<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="de" sourcelanguage="en">
<context>
    <name>ew::ui::AboutDialog</name>
    <message>
        <source>About Edgewise</source>
        <translation>Über Edgewise</translation>
    </message>
    <message>
        <source>&lt;p&gt;A workbench for inspecting, optimizing and deploying neural-network models.&lt;/p&gt;</source>
        <translation>&lt;p&gt;Eine Werkbank zum Untersuchen, Optimieren und Ausrollen neuronaler Netze.&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;p&gt;Built with Qt %1, running on Qt %2 (%3).&lt;/p&gt;</source>
        <translation>&lt;p&gt;Erstellt mit Qt %1, läuft mit Qt %2 (%3).&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Bundled sample model&lt;/h3&gt;&lt;p&gt;&lt;b&gt;digits_cnn.onnx&lt;/b&gt; was made by the Edgewise team: a small CNN trained on scikit-learn&apos;s &lt;i&gt;load_digits&lt;/i&gt;, a copy of the UCI Optical Recognition of Handwritten Digits data set, licensed under &lt;a href=&quot;https://creativecommons.org/licenses/by/4.0/&quot;&gt;CC BY 4.0&lt;/a&gt; (E. Alpaydin, C. Kaynak).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;Mitgeliefertes Beispielmodell&lt;/h3&gt;&lt;p&gt;&lt;b&gt;digits_cnn.onnx&lt;/b&gt; stammt vom Edgewise-Team: ein kleines CNN, trainiert auf &lt;i&gt;load_digits&lt;/i&gt; aus scikit-learn, einer Kopie des UCI-Datensatzes „Optical Recognition of Handwritten Digits“, lizenziert unter &lt;a href=&quot;https://creativecommons.org/licenses/by/4.0/&quot;&gt;CC BY 4.0&lt;/a&gt; (E. Alpaydin, C. Kaynak).&lt;/p&gt;</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Third-party software&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Qt 6: LGPL-3.0&lt;/li&gt;&lt;li&gt;QCustomPlot: GPL-3.0&lt;/li&gt;&lt;li&gt;ONNX: Apache-2.0&lt;/li&gt;&lt;li&gt;Protocol Buffers: BSD-3-Clause&lt;/li&gt;&lt;li&gt;FlatBuffers: Apache-2.0&lt;/li&gt;&lt;li&gt;Eigen: MPL-2.0&lt;/li&gt;&lt;/ul&gt;</source>
        <translation>&lt;h3&gt;Software von Drittanbietern&lt;/h3&gt;&lt;ul&gt;&lt;li&gt;Qt 6: LGPL-3.0&lt;/li&gt;&lt;li&gt;QCustomPlot: GPL-3.0&lt;/li&gt;&lt;li&gt;ONNX: Apache-2.0&lt;/li&gt;&lt;li&gt;Protocol Buffers: BSD-3-Clause&lt;/li&gt;&lt;li&gt;FlatBuffers: Apache-2.0&lt;/li&gt;&lt;li&gt;Eigen: MPL-2.0&lt;/li&gt;&lt;/ul&gt;</translation>
    </message>
</context>
<context>
    <name>ew::ui::Format</name>
    <message>
        <source>unknown rank</source>
        <translation>unbekannter Rang</translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphExport</name>
    <message>
        <source>%1: unknown image format; use .png or .svg</source>
        <translation>%1: unbekanntes Bildformat; bitte .png oder .svg verwenden</translation>
    </message>
    <message>
        <source>%1: there is no graph to export</source>
        <translation>%1: Es gibt keinen Graphen zum Exportieren</translation>
    </message>
    <message>
        <source>Cannot write %1: %2</source>
        <translation>%1 kann nicht geschrieben werden: %2</translation>
    </message>
    <message>
        <source>Cannot write %1: the image (%2 x %3 pixels) does not fit in memory</source>
        <translation>%1 kann nicht geschrieben werden: Das Bild (%2 × %3 Pixel) passt nicht in den Speicher</translation>
    </message>
    <message>
        <source>Edgewise graph</source>
        <translation>Edgewise-Graph</translation>
    </message>
    <message>
        <source>The visible part of the graph</source>
        <translation>Der sichtbare Teil des Graphen</translation>
    </message>
    <message>
        <source>The whole graph</source>
        <translation>Der ganze Graph</translation>
    </message>
    <message>
        <source>Cannot write %1: the SVG generator could not start</source>
        <translation>%1 kann nicht geschrieben werden: Der SVG-Generator ließ sich nicht starten</translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphPage</name>
    <message>
        <source>Lay Out Again</source>
        <translation>Erneut anordnen</translation>
    </message>
    <message>
        <source>Fit</source>
        <translation>Einpassen</translation>
    </message>
    <message>
        <source>Show the whole graph (0)</source>
        <translation>Den ganzen Graphen zeigen (0)</translation>
    </message>
    <message>
        <source>Selection</source>
        <translation>Auswahl</translation>
    </message>
    <message>
        <source>Zoom to the selected node</source>
        <translation>Auf den ausgewählten Knoten zoomen</translation>
    </message>
    <message>
        <source>100%</source>
        <translation>100 %</translation>
    </message>
    <message>
        <source>Actual size (1)</source>
        <translation>Originalgröße (1)</translation>
    </message>
    <message>
        <source>Shapes</source>
        <translation>Formen</translation>
    </message>
    <message>
        <source>Show tensor shapes on the edges</source>
        <translation>Tensorformen an den Kanten zeigen</translation>
    </message>
    <message>
        <source>Groups</source>
        <translation>Gruppen</translation>
    </message>
    <message>
        <source>Expand or collapse the name scopes</source>
        <translation>Namensbereiche auf- oder zuklappen</translation>
    </message>
    <message>
        <source>Expand All</source>
        <translation>Alle aufklappen</translation>
    </message>
    <message>
        <source>Collapse All</source>
        <translation>Alle zuklappen</translation>
    </message>
    <message>
        <source>Default Grouping</source>
        <translation>Standardgruppierung</translation>
    </message>
    <message>
        <source>Collapse groups as when the model was opened</source>
        <translation>Gruppen wie beim Öffnen des Modells zuklappen</translation>
    </message>
    <message>
        <source>View</source>
        <translation>Ansicht</translation>
    </message>
    <message>
        <source>Canvas options</source>
        <translation>Optionen der Zeichenfläche</translation>
    </message>
    <message>
        <source>Zoom In</source>
        <translation>Vergrößern</translation>
    </message>
    <message>
        <source>Zoom Out</source>
        <translation>Verkleinern</translation>
    </message>
    <message>
        <source>Minimap</source>
        <translation>Übersichtskarte</translation>
    </message>
    <message>
        <source>Legend</source>
        <translation>Legende</translation>
    </message>
    <message>
        <source>View as PNG…</source>
        <translation>Ansicht als PNG…</translation>
    </message>
    <message>
        <source>View as SVG…</source>
        <translation>Ansicht als SVG…</translation>
    </message>
    <message>
        <source>Whole Graph as PNG…</source>
        <translation>Ganzer Graph als PNG…</translation>
    </message>
    <message>
        <source>Whole Graph as SVG…</source>
        <translation>Ganzer Graph als SVG…</translation>
    </message>
    <message>
        <source>Export</source>
        <translation>Exportieren</translation>
    </message>
    <message>
        <source>Save the view or the whole graph as PNG or SVG</source>
        <translation>Die Ansicht oder den ganzen Graphen als PNG oder SVG speichern</translation>
    </message>
    <message>
        <source>Open a model to see its graph.</source>
        <translation>Öffnen Sie ein Modell, um seinen Graphen zu sehen.</translation>
    </message>
    <message>
        <source>Laying out the graph…</source>
        <translation>Graph wird angeordnet…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Graph Layout</source>
        <translation>Graph-Layout</translation>
    </message>
    <message>
        <source>Stage: %1</source>
        <translation>Schritt: %1</translation>
    </message>
    <message>
        <source>Layout cancelled; the previous drawing stays.</source>
        <translation>Layout abgebrochen; die bisherige Darstellung bleibt.</translation>
    </message>
    <message>
        <source>Layout cancelled.</source>
        <translation>Layout abgebrochen.</translation>
    </message>
    <message>
        <source>Cannot lay out the graph: %1</source>
        <translation>Der Graph kann nicht angeordnet werden: %1</translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) shown</source>
        <translation>
            <numerusform>%1 von %n Knoten sichtbar</numerusform>
            <numerusform>%1 von %n Knoten sichtbar</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n edge(s)</source>
        <translation>
            <numerusform>%n Kante</numerusform>
            <numerusform>%n Kanten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n group(s), %1 collapsed</source>
        <translation>
            <numerusform>%n Gruppe, %1 zugeklappt</numerusform>
            <numerusform>%n Gruppen, %1 zugeklappt</numerusform>
        </translation>
    </message>
    <message>
        <source>layout %1 ms</source>
        <translation>Layout %1 ms</translation>
    </message>
    <message>
        <source>zoom %1%</source>
        <translation>Zoom %1 %</translation>
    </message>
    <message>
        <source>Laying out…</source>
        <translation>Wird angeordnet…</translation>
    </message>
    <message>
        <source>Expand Group</source>
        <translation>Gruppe aufklappen</translation>
    </message>
    <message>
        <source>Collapse Group</source>
        <translation>Gruppe zuklappen</translation>
    </message>
    <message>
        <source>Zoom to Node</source>
        <translation>Auf Knoten zoomen</translation>
    </message>
    <message>
        <source>Collapse Its Group</source>
        <translation>Seine Gruppe zuklappen</translation>
    </message>
    <message>
        <source>Exported the graph to %1</source>
        <translation>Graph nach %1 exportiert</translation>
    </message>
    <message>
        <source>Cannot Export Graph</source>
        <translation>Graph kann nicht exportiert werden</translation>
    </message>
    <message>
        <source>PNG images (*.png)</source>
        <translation>PNG-Bilder (*.png)</translation>
    </message>
    <message>
        <source>SVG drawings (*.svg)</source>
        <translation>SVG-Zeichnungen (*.svg)</translation>
    </message>
    <message>
        <source>Export Graph</source>
        <translation>Graph exportieren</translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphScene</name>
    <message numerus="yes">
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n Knoten</numerusform>
            <numerusform>%n Knoten</numerusform>
        </translation>
    </message>
    <message>
        <source>Inputs:</source>
        <translation>Eingänge:</translation>
    </message>
    <message>
        <source>Outputs:</source>
        <translation>Ausgänge:</translation>
    </message>
    <message>
        <source>Graph input</source>
        <translation>Graph-Eingang</translation>
    </message>
    <message>
        <source>Graph output</source>
        <translation>Graph-Ausgang</translation>
    </message>
    <message>
        <source>Initializer</source>
        <translation>Initialisierer</translation>
    </message>
    <message>
        <source>Double-click to expand</source>
        <translation>Doppelklick zum Aufklappen</translation>
    </message>
    <message>
        <source>Double-click the header to collapse</source>
        <translation>Doppelklick auf die Kopfzeile zum Zuklappen</translation>
    </message>
</context>
<context>
    <name>ew::ui::GraphSearch</name>
    <message>
        <source>weights %1</source>
        <translation>Gewichte %1</translation>
    </message>
    <message>
        <source>input %1</source>
        <translation>Eingang %1</translation>
    </message>
    <message>
        <source>output %1</source>
        <translation>Ausgang %1</translation>
    </message>
    <message>
        <source>Search nodes, ops, tensors…</source>
        <translation>Knoten, Operatoren, Tensoren suchen…</translation>
    </message>
    <message>
        <source>Find nodes by name or op type and tensors by name (Ctrl+F)</source>
        <translation>Knoten nach Name oder Operatortyp und Tensoren nach Name finden (Strg+F)</translation>
    </message>
    <message>
        <source>No matches</source>
        <translation>Keine Treffer</translation>
    </message>
    <message numerus="yes">
        <source>First %n match(es)</source>
        <translation>
            <numerusform>Erster Treffer</numerusform>
            <numerusform>Erste %n Treffer</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n match(es)</source>
        <translation>
            <numerusform>%n Treffer</numerusform>
            <numerusform>%n Treffer</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::InspectorPanel</name>
    <message>
        <source>initializer</source>
        <translation>Initialisierer</translation>
    </message>
    <message>
        <source>Constant node</source>
        <translation>Constant-Knoten</translation>
    </message>
    <message>
        <source>quantized, dequantized by %1</source>
        <translation>quantisiert, dequantisiert von %1</translation>
    </message>
    <message>
        <source>%1: %2 (quantized)</source>
        <translation>%1: %2 (quantisiert)</translation>
    </message>
    <message>
        <source>attribute %1</source>
        <translation>Attribut %1</translation>
    </message>
    <message>
        <source>This node has no constant inputs.</source>
        <translation>Dieser Knoten hat keine konstanten Eingänge.</translation>
    </message>
    <message>
        <source>quantization channel</source>
        <translation>Quantisierungskanal</translation>
    </message>
    <message>
        <source>output channel of %1</source>
        <translation>Ausgabekanal von %1</translation>
    </message>
</context>
<context>
    <name>ew::ui::LogPanel</name>
    <message>
        <source>debug</source>
        <translation>debug</translation>
    </message>
    <message>
        <source>info</source>
        <translation>info</translation>
    </message>
    <message>
        <source>warning</source>
        <translation>warnung</translation>
    </message>
    <message>
        <source>error</source>
        <translation>fehler</translation>
    </message>
</context>
<context>
    <name>ew::ui::MainWindow</name>
    <message>
        <source>Edgewise</source>
        <translation>Edgewise</translation>
    </message>
    <message>
        <source>Overview</source>
        <translation>Übersicht</translation>
    </message>
    <message>
        <source>Ready. Open a model with File &gt; Open or drop one here.</source>
        <translation>Bereit. Öffnen Sie ein Modell mit Datei &gt; Öffnen oder ziehen Sie es hierher.</translation>
    </message>
    <message>
        <source>&amp;Open…</source>
        <translation>&amp;Öffnen…</translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model</source>
        <translation>Ein ONNX- oder TFLite-Modell öffnen</translation>
    </message>
    <message>
        <source>Open &amp;Sample Model</source>
        <translation>&amp;Beispielmodell öffnen</translation>
    </message>
    <message>
        <source>Open the bundled digits_cnn.onnx example</source>
        <translation>Das mitgelieferte Beispiel digits_cnn.onnx öffnen</translation>
    </message>
    <message>
        <source>Save &amp;As…</source>
        <translation>Speichern &amp;unter…</translation>
    </message>
    <message>
        <source>Save the model to a new file</source>
        <translation>Das Modell in eine neue Datei speichern</translation>
    </message>
    <message>
        <source>&amp;Export to ONNX…</source>
        <translation>Als ONNX &amp;exportieren…</translation>
    </message>
    <message>
        <source>Write the model as an ONNX file</source>
        <translation>Das Modell als ONNX-Datei schreiben</translation>
    </message>
    <message>
        <source>&amp;Close Model</source>
        <translation>Modell &amp;schließen</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>&amp;Beenden</translation>
    </message>
    <message>
        <source>&amp;Clear Recent Files</source>
        <translation>Liste &amp;leeren</translation>
    </message>
    <message>
        <source>&amp;About Edgewise</source>
        <translation>&amp;Über Edgewise</translation>
    </message>
    <message>
        <source>About &amp;Qt</source>
        <translation>Über &amp;Qt</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Model Summary</source>
        <translation>Modellübersicht</translation>
    </message>
    <message>
        <source>Log</source>
        <translation>Protokoll</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;Datei</translation>
    </message>
    <message>
        <source>Open &amp;Recent</source>
        <translation>&amp;Zuletzt geöffnet</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>&amp;Ansicht</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>&amp;Bearbeiten</translation>
    </message>
    <message>
        <source>&amp;Undo</source>
        <translation>&amp;Rückgängig</translation>
    </message>
    <message>
        <source>&amp;Redo</source>
        <translation>&amp;Wiederholen</translation>
    </message>
    <message>
        <source>&amp;Optimize…</source>
        <translation>&amp;Optimieren…</translation>
    </message>
    <message>
        <source>Simplify and fuse the graph with the optimizer&apos;s passes</source>
        <translation>Den Graphen mit den Durchläufen des Optimierers vereinfachen und zusammenfassen</translation>
    </message>
    <message>
        <source>Optimize</source>
        <translation>Optimieren</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Hilfe</translation>
    </message>
    <message>
        <source>Main</source>
        <translation>Haupt</translation>
    </message>
    <message>
        <source>Models (%1)</source>
        <translation>Modelle (%1)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>Alle Dateien (*)</translation>
    </message>
    <message>
        <source>Open Model</source>
        <translation>Modell öffnen</translation>
    </message>
    <message>
        <source>Save Model As</source>
        <translation>Modell speichern unter</translation>
    </message>
    <message>
        <source>Export to ONNX</source>
        <translation>Als ONNX exportieren</translation>
    </message>
    <message>
        <source>ONNX models (*.onnx)</source>
        <translation>ONNX-Modelle (*.onnx)</translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to open %1</source>
        <translation>Noch beschäftigt; %1 wird nicht geöffnet</translation>
    </message>
    <message>
        <source>Still busy; ignoring the request to save %1</source>
        <translation>Noch beschäftigt; %1 wird nicht gespeichert</translation>
    </message>
    <message>
        <source>Loading %1…</source>
        <translation>%1 wird geladen…</translation>
    </message>
    <message>
        <source>Saving %1…</source>
        <translation>%1 wird gespeichert…</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Abbrechen</translation>
    </message>
    <message>
        <source>Opening Model</source>
        <translation>Modell wird geöffnet</translation>
    </message>
    <message>
        <source>Saving Model</source>
        <translation>Modell wird gespeichert</translation>
    </message>
    <message>
        <source>Cancelling…</source>
        <translation>Wird abgebrochen…</translation>
    </message>
    <message>
        <source>Stage: %1</source>
        <translation>Schritt: %1</translation>
    </message>
    <message>
        <source>Loading %1 was cancelled; the previous model stays open.</source>
        <translation>Laden von %1 abgebrochen; das bisherige Modell bleibt geöffnet.</translation>
    </message>
    <message>
        <source>Loading cancelled</source>
        <translation>Laden abgebrochen</translation>
    </message>
    <message>
        <source>Could not open %1</source>
        <translation>%1 konnte nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Cannot Open Model</source>
        <translation>Modell kann nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Could not open %1.</source>
        <translation>%1 konnte nicht geöffnet werden.</translation>
    </message>
    <message>
        <source>Opened %1</source>
        <translation>%1 geöffnet</translation>
    </message>
    <message>
        <source>Saving %1 was cancelled.</source>
        <translation>Speichern von %1 abgebrochen.</translation>
    </message>
    <message>
        <source>Cannot Save Model</source>
        <translation>Modell kann nicht gespeichert werden</translation>
    </message>
    <message>
        <source>Could not save %1.</source>
        <translation>%1 konnte nicht gespeichert werden.</translation>
    </message>
    <message>
        <source>Saved %1</source>
        <translation>%1 gespeichert</translation>
    </message>
    <message>
        <source>%1 — Edgewise</source>
        <translation>%1 — Edgewise</translation>
    </message>
    <message numerus="yes">
        <source>%1 · %n node(s)</source>
        <translation>
            <numerusform>%1 · %n Knoten</numerusform>
            <numerusform>%1 · %n Knoten</numerusform>
        </translation>
    </message>
    <message>
        <source>Closed %1</source>
        <translation>%1 geschlossen</translation>
    </message>
    <message>
        <source>Selected %1 (%2)</source>
        <translation>%1 (%2) ausgewählt</translation>
    </message>
    <message>
        <source>(no recent files)</source>
        <translation>(keine zuletzt geöffneten Dateien)</translation>
    </message>
    <message>
        <source>Cannot Open Sample</source>
        <translation>Beispiel kann nicht geöffnet werden</translation>
    </message>
    <message>
        <source>Could not copy the sample model.</source>
        <translation>Das Beispielmodell konnte nicht kopiert werden.</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Load &amp;Overlay…</source>
        <translation>&amp;Overlay laden…</translation>
    </message>
    <message>
        <source>Colour the nodes by per-node values from a JSON file (latency, error, …)</source>
        <translation>Knoten nach Werten pro Knoten aus einer JSON-Datei einfärben (Latenz, Fehler, …)</translation>
    </message>
    <message>
        <source>Inspector</source>
        <translation>Inspektor</translation>
    </message>
    <message>
        <source>Overlays</source>
        <translation>Overlays</translation>
    </message>
    <message>
        <source>Load Overlay</source>
        <translation>Overlay laden</translation>
    </message>
    <message>
        <source>Overlay files (*.json)</source>
        <translation>Overlay-Dateien (*.json)</translation>
    </message>
    <message>
        <source>%1: open a model before loading an overlay for it</source>
        <translation>%1: Öffnen Sie zuerst ein Modell, bevor Sie ein Overlay dafür laden</translation>
    </message>
    <message>
        <source>Could not load overlay %1</source>
        <translation>Overlay %1 konnte nicht geladen werden</translation>
    </message>
    <message>
        <source>Cannot Load Overlay</source>
        <translation>Overlay kann nicht geladen werden</translation>
    </message>
    <message>
        <source>Could not load the overlay %1.</source>
        <translation>Das Overlay %1 konnte nicht geladen werden.</translation>
    </message>
    <message numerus="yes">
        <source>Loaded overlay &quot;%1&quot; from %2: %n node(s)</source>
        <translation>
            <numerusform>Overlay „%1“ aus %2 geladen: %n Knoten</numerusform>
            <numerusform>Overlay „%1“ aus %2 geladen: %n Knoten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1: %n name(s) are not nodes of this model: %2</source>
        <translation>
            <numerusform>%1: %n Name ist kein Knoten dieses Modells: %2</numerusform>
            <numerusform>%1: %n Namen sind keine Knoten dieses Modells: %2</numerusform>
        </translation>
    </message>
    <message>
        <source>Showing overlay %1</source>
        <translation>Overlay %1 wird angezeigt</translation>
    </message>
    <message>
        <source>Graph</source>
        <translation>Graph</translation>
    </message>
</context>
<context>
    <name>ew::ui::Minimap</name>
    <message>
        <source>Overview: click or drag to move the view</source>
        <translation>Übersicht: Klicken oder ziehen, um die Ansicht zu verschieben</translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeListPanel</name>
    <message>
        <source>Filter by name, op or shape…</source>
        <translation>Nach Name, Operator oder Form filtern…</translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message numerus="yes">
        <source>%n node(s)</source>
        <translation>
            <numerusform>%n Knoten</numerusform>
            <numerusform>%n Knoten</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%1 of %n node(s) match</source>
        <translation>
            <numerusform>%1 von %n Knoten passt</numerusform>
            <numerusform>%1 von %n Knoten passen</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::NodeTableModel</name>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation>Eine Untergrenze: symbolische oder unbekannte Dimensionen zählen als 1.</translation>
    </message>
    <message>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Op</source>
        <translation>Operator</translation>
    </message>
    <message>
        <source>Output shapes</source>
        <translation>Ausgabeformen</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>%1: %2 %3</source>
        <translation>%1: %2 %3</translation>
    </message>
</context>
<context>
    <name>ew::ui::OpLegend</name>
    <message>
        <source>Convolution</source>
        <translation>Faltung</translation>
    </message>
    <message>
        <source>Matrix</source>
        <translation>Matrix</translation>
    </message>
    <message>
        <source>Activation</source>
        <translation>Aktivierung</translation>
    </message>
    <message>
        <source>Normalization</source>
        <translation>Normalisierung</translation>
    </message>
    <message>
        <source>Pooling</source>
        <translation>Pooling</translation>
    </message>
    <message>
        <source>Elementwise</source>
        <translation>Elementweise</translation>
    </message>
    <message>
        <source>Shape / tensor</source>
        <translation>Form / Tensor</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>Quantisierung</translation>
    </message>
    <message>
        <source>Control flow</source>
        <translation>Kontrollfluss</translation>
    </message>
    <message>
        <source>Custom</source>
        <translation>Benutzerdefiniert</translation>
    </message>
    <message>
        <source>Other</source>
        <translation>Sonstige</translation>
    </message>
</context>
<context>
    <name>ew::ui::Overlay</name>
    <message>
        <source>%1: not valid JSON: %2 at offset %3</source>
        <translation>%1: kein gültiges JSON: %2 an Position %3</translation>
    </message>
    <message>
        <source>%1: the top level must be a JSON object with &quot;name&quot;, &quot;unit&quot; and &quot;values&quot;</source>
        <translation>%1: die oberste Ebene muss ein JSON-Objekt mit „name“, „unit“ und „values“ sein</translation>
    </message>
    <message>
        <source>%1: &quot;name&quot; must be a string, not %2</source>
        <translation>%1: „name“ muss eine Zeichenkette sein, nicht %2</translation>
    </message>
    <message>
        <source>%1: &quot;unit&quot; must be a string, not %2</source>
        <translation>%1: „unit“ muss eine Zeichenkette sein, nicht %2</translation>
    </message>
    <message>
        <source>%1: missing &quot;values&quot; (an object mapping node names to numbers)</source>
        <translation>%1: „values“ fehlt (ein Objekt, das Knotennamen Zahlen zuordnet)</translation>
    </message>
    <message>
        <source>%1: &quot;values&quot; must be an object mapping node names to numbers, not %2</source>
        <translation>%1: „values“ muss ein Objekt sein, das Knotennamen Zahlen zuordnet, nicht %2</translation>
    </message>
    <message>
        <source>%1: &quot;values&quot; is empty</source>
        <translation>%1: „values“ ist leer</translation>
    </message>
    <message>
        <source> and %1 more</source>
        <translation> und %1 weitere</translation>
    </message>
    <message>
        <source>%1: %2 value(s) in &quot;values&quot; are not numbers: %3</source>
        <translation>%1: %2 Wert(e) in „values“ sind keine Zahlen: %3</translation>
    </message>
    <message>
        <source>%1: cannot read: %2</source>
        <translation>%1: kann nicht gelesen werden: %2</translation>
    </message>
    <message>
        <source>%1: too large for an overlay (%2; at most %3)</source>
        <translation>%1: zu groß für ein Overlay (%2; höchstens %3)</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
</context>
<context>
    <name>ew::ui::OverlayLegend</name>
    <message>
        <source>This overlay has no values for this model</source>
        <translation>Dieses Overlay hat keine Werte für dieses Modell</translation>
    </message>
    <message>
        <source>No overlay shown</source>
        <translation>Kein Overlay angezeigt</translation>
    </message>
    <message>
        <source>log scale</source>
        <translation>logarithmisch</translation>
    </message>
</context>
<context>
    <name>ew::ui::OverlayPanel</name>
    <message>
        <source>Load…</source>
        <translation>Laden…</translation>
    </message>
    <message>
        <source>Load an overlay from a JSON file: { &quot;name&quot;: …, &quot;unit&quot;: …, &quot;values&quot;: { &quot;node name&quot;: number } }</source>
        <translation>Ein Overlay aus einer JSON-Datei laden: { &quot;name&quot;: …, &quot;unit&quot;: …, &quot;values&quot;: { &quot;Knotenname&quot;: Zahl } }</translation>
    </message>
    <message>
        <source>Nodes below the threshold are not highlighted</source>
        <translation>Knoten unter dem Schwellwert werden nicht hervorgehoben</translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation>Logarithmisch</translation>
    </message>
    <message>
        <source>Spread values that span orders of magnitude (all values must be positive)</source>
        <translation>Werte über mehrere Größenordnungen spreizen (alle Werte müssen positiv sein)</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Op</source>
        <translation>Op</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Overlay:</source>
        <translation>Overlay:</translation>
    </message>
    <message>
        <source>Threshold:</source>
        <translation>Schwellwert:</translation>
    </message>
    <message>
        <source>None</source>
        <translation>Keines</translation>
    </message>
    <message>
        <source>%1 (built-in)</source>
        <translation>%1 (eingebaut)</translation>
    </message>
    <message>
        <source>Computed from the model</source>
        <translation>Aus dem Modell berechnet</translation>
    </message>
    <message>
        <source>Pick an overlay to colour the nodes by a per-node value.</source>
        <translation>Wählen Sie ein Overlay, um die Knoten nach einem Wert pro Knoten einzufärben.</translation>
    </message>
    <message>
        <source>Open a model to use overlays.</source>
        <translation>Öffnen Sie ein Modell, um Overlays zu verwenden.</translation>
    </message>
    <message numerus="yes">
        <source>Highlighting %1 of %n node(s): value ≥ %2</source>
        <translation>
            <numerusform>%1 von %n Knoten hervorgehoben: Wert ≥ %2</numerusform>
            <numerusform>%1 von %n Knoten hervorgehoben: Wert ≥ %2</numerusform>
        </translation>
    </message>
    <message>
        <source>Built-in overlay, computed from the model.</source>
        <translation>Eingebautes Overlay, aus dem Modell berechnet.</translation>
    </message>
    <message>
        <source>Loaded from %1.</source>
        <translation>Geladen aus %1.</translation>
    </message>
    <message numerus="yes">
        <source>%n name(s) in the file are not nodes of this model.</source>
        <translation>
            <numerusform>%n Name in der Datei ist kein Knoten dieses Modells.</numerusform>
            <numerusform>%n Namen in der Datei sind keine Knoten dieses Modells.</numerusform>
        </translation>
    </message>
    <message>
        <source>Value (%1)</source>
        <translation>Wert (%1)</translation>
    </message>
</context>
<context>
    <name>ew::ui::OverviewPage</name>
    <message numerus="yes">
        <source>other (%n type(s))</source>
        <translation>
            <numerusform>sonstige (%n Typ)</numerusform>
            <numerusform>sonstige (%n Typen)</numerusform>
        </translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message>
        <source>Open an ONNX or TFLite model with File &gt; Open (Ctrl+O), pick one from File &gt; Open Recent, or drop a model file onto this window.</source>
        <translation>Öffnen Sie ein ONNX- oder TFLite-Modell mit Datei &gt; Öffnen (Strg+O), wählen Sie eines unter Datei &gt; Zuletzt geöffnet oder ziehen Sie eine Modelldatei auf dieses Fenster.</translation>
    </message>
    <message>
        <source>Open Model…</source>
        <translation>Modell öffnen…</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>MACs per inference</source>
        <translation>MACs pro Inferenz</translation>
    </message>
    <message>
        <source>Weights in memory</source>
        <translation>Gewichte im Speicher</translation>
    </message>
    <message>
        <source>≥ marks a lower bound: symbolic or unknown dimensions (such as a batch size N) are counted as 1.</source>
        <translation>≥ kennzeichnet eine Untergrenze: symbolische oder unbekannte Dimensionen (etwa eine Batchgröße N) zählen als 1.</translation>
    </message>
    <message>
        <source>No multiply-accumulate ops in this graph</source>
        <translation>Keine Multiplizier-Akkumulier-Operationen in diesem Graphen</translation>
    </message>
    <message>
        <source>IR version %1</source>
        <translation>IR-Version %1</translation>
    </message>
    <message>
        <source>opsets: %1</source>
        <translation>Opsets: %1</translation>
    </message>
    <message>
        <source>produced by %1</source>
        <translation>erzeugt von %1</translation>
    </message>
    <message>
        <source>%1 (+%2 nested)</source>
        <translation>%1 (+%2 verschachtelt)</translation>
    </message>
    <message>
        <source>Input</source>
        <translation>Eingabe</translation>
    </message>
    <message>
        <source>Output</source>
        <translation>Ausgabe</translation>
    </message>
    <message>
        <source>Nodes per op type</source>
        <translation>Knoten je Operatortyp</translation>
    </message>
    <message>
        <source>nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>GMACs</source>
        <translation>GMACs</translation>
    </message>
    <message>
        <source>MMACs</source>
        <translation>MMACs</translation>
    </message>
    <message>
        <source>kMACs</source>
        <translation>kMACs</translation>
    </message>
    <message>
        <source>MACs per op type (%1 total)</source>
        <translation>MACs je Operatortyp (%1 gesamt)</translation>
    </message>
</context>
<context>
    <name>ew::ui::PropertiesPanel</name>
    <message>
        <source>Property</source>
        <translation>Eigenschaft</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>Elements</source>
        <translation>Elemente</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Min</source>
        <translation>Minimum</translation>
    </message>
    <message>
        <source>Max</source>
        <translation>Maximum</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Mittelwert</translation>
    </message>
    <message>
        <source>Std dev</source>
        <translation>Standardabweichung</translation>
    </message>
    <message>
        <source>Sparsity</source>
        <translation>Dünnbesetztheit</translation>
    </message>
    <message>
        <source>%1 % zeros (%2 of %3)</source>
        <translation>%1 % Nullen (%2 von %3)</translation>
    </message>
    <message>
        <source>NaN / inf</source>
        <translation>NaN / unendlich</translation>
    </message>
    <message>
        <source>Type</source>
        <translation>Typ</translation>
    </message>
    <message>
        <source>Shape</source>
        <translation>Form</translation>
    </message>
    <message>
        <source>graph input</source>
        <translation>Grapheingabe</translation>
    </message>
    <message>
        <source>output of %1 (%2)</source>
        <translation>Ausgabe von %1 (%2)</translation>
    </message>
    <message>
        <source>value of the enclosing graph</source>
        <translation>Wert des umgebenden Graphen</translation>
    </message>
    <message>
        <source>not produced by any node</source>
        <translation>von keinem Knoten erzeugt</translation>
    </message>
    <message>
        <source>Source</source>
        <translation>Quelle</translation>
    </message>
    <message>
        <source>graph output</source>
        <translation>Graphausgabe</translation>
    </message>
    <message>
        <source>unused</source>
        <translation>unbenutzt</translation>
    </message>
    <message numerus="yes">
        <source> and %n more</source>
        <translation>
            <numerusform> und %n weiterer</numerusform>
            <numerusform> und %n weitere</numerusform>
        </translation>
    </message>
    <message>
        <source>Used by</source>
        <translation>Verwendet von</translation>
    </message>
    <message>
        <source>&lt;i&gt;Select a node in the node list to see its attributes, inputs and weights.&lt;/i&gt;</source>
        <translation>&lt;i&gt;Wählen Sie einen Knoten in der Knotenliste, um seine Attribute, Eingaben und Gewichte zu sehen.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>&lt;i&gt;No model open.&lt;/i&gt;</source>
        <translation>&lt;i&gt;Kein Modell geöffnet.&lt;/i&gt;</translation>
    </message>
    <message>
        <source>Node</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Op type</source>
        <translation>Operatortyp</translation>
    </message>
    <message>
        <source>Domain</source>
        <translation>Domäne</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>FLOPs</source>
        <translation>FLOPs</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>Subgraphs</source>
        <translation>Untergraphen</translation>
    </message>
    <message numerus="yes">
        <source>%n subgraph(s)</source>
        <translation>
            <numerusform>%n Untergraph</numerusform>
            <numerusform>%n Untergraphen</numerusform>
        </translation>
    </message>
    <message>
        <source>Documentation</source>
        <translation>Dokumentation</translation>
    </message>
    <message>
        <source>Attributes (%1)</source>
        <translation>Attribute (%1)</translation>
    </message>
    <message>
        <source>(none)</source>
        <translation>(keine)</translation>
    </message>
    <message>
        <source>Inputs (%1)</source>
        <translation>Eingaben (%1)</translation>
    </message>
    <message>
        <source>%1: (omitted)</source>
        <translation>%1: (ausgelassen)</translation>
    </message>
    <message>
        <source>Outputs (%1)</source>
        <translation>Ausgaben (%1)</translation>
    </message>
    <message>
        <source>initializer (weight)</source>
        <translation>Initialisierer (Gewicht)</translation>
    </message>
    <message>
        <source>Quantization</source>
        <translation>Quantisierung</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>Skala</translation>
    </message>
    <message>
        <source>Zero point</source>
        <translation>Nullpunkt</translation>
    </message>
    <message>
        <source>%1 … %2</source>
        <translation>%1 … %2</translation>
    </message>
    <message>
        <source>all 0</source>
        <translation>alle 0</translation>
    </message>
    <message>
        <source>all %1</source>
        <translation>alle %1</translation>
    </message>
    <message>
        <source>Channel</source>
        <translation>Kanal</translation>
    </message>
    <message>
        <source>per tensor</source>
        <translation>pro Tensor</translation>
    </message>
    <message numerus="yes">
        <source>per channel, axis %1, %n channel(s)</source>
        <translation>
            <numerusform>pro Kanal, Achse %1, %n Kanal</numerusform>
            <numerusform>pro Kanal, Achse %1, %n Kanäle</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ew::ui::SummaryPanel</name>
    <message>
        <source>Field</source>
        <translation>Feld</translation>
    </message>
    <message>
        <source>Value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>No model open</source>
        <translation>Kein Modell geöffnet</translation>
    </message>
    <message>
        <source>File</source>
        <translation>Datei</translation>
    </message>
    <message>
        <source>Format</source>
        <translation>Format</translation>
    </message>
    <message>
        <source>File size</source>
        <translation>Dateigröße</translation>
    </message>
    <message>
        <source>IR version</source>
        <translation>IR-Version</translation>
    </message>
    <message>
        <source>Opsets</source>
        <translation>Opsets</translation>
    </message>
    <message>
        <source>Producer</source>
        <translation>Erzeuger</translation>
    </message>
    <message>
        <source>(not recorded)</source>
        <translation>(nicht angegeben)</translation>
    </message>
    <message>
        <source>Inputs</source>
        <translation>Eingaben</translation>
    </message>
    <message>
        <source>Outputs</source>
        <translation>Ausgaben</translation>
    </message>
    <message>
        <source>Nodes</source>
        <translation>Knoten</translation>
    </message>
    <message>
        <source>Nodes incl. subgraphs</source>
        <translation>Knoten inkl. Untergraphen</translation>
    </message>
    <message>
        <source>Parameters</source>
        <translation>Parameter</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>MACs</source>
        <translation>MACs</translation>
    </message>
    <message>
        <source>A lower bound: symbolic or unknown dimensions are counted as 1.</source>
        <translation>Eine Untergrenze: symbolische oder unbekannte Dimensionen zählen als 1.</translation>
    </message>
    <message>
        <source>Op types</source>
        <translation>Operatortypen</translation>
    </message>
</context>
<context>
    <name>ew::ui::TensorView</name>
    <message>
        <source>Constant inputs of the selected node</source>
        <translation>Konstante Eingänge des ausgewählten Knotens</translation>
    </message>
    <message>
        <source>Tensor:</source>
        <translation>Tensor:</translation>
    </message>
    <message>
        <source>Min</source>
        <translation>Min</translation>
    </message>
    <message>
        <source>Max</source>
        <translation>Max</translation>
    </message>
    <message>
        <source>Mean</source>
        <translation>Mittelwert</translation>
    </message>
    <message>
        <source>Std dev</source>
        <translation>Std.-Abw.</translation>
    </message>
    <message>
        <source>Sparsity</source>
        <translation>Dünnbesetztheit</translation>
    </message>
    <message>
        <source>NaN / inf</source>
        <translation>NaN / inf</translation>
    </message>
    <message>
        <source>Computing statistics…</source>
        <translation>Statistik wird berechnet…</translation>
    </message>
    <message>
        <source>Log scale</source>
        <translation>Logarithmisch</translation>
    </message>
    <message>
        <source>Logarithmic count axis: rare outlier values stay visible</source>
        <translation>Logarithmische Häufigkeitsachse: seltene Ausreißer bleiben sichtbar</translation>
    </message>
    <message>
        <source>Dequantize</source>
        <translation>Dequantisieren</translation>
    </message>
    <message>
        <source>Show (value − zero point) × scale instead of the stored integers</source>
        <translation>(Wert − Nullpunkt) × Skala statt der gespeicherten Ganzzahlen zeigen</translation>
    </message>
    <message>
        <source>Copy Values</source>
        <translation>Werte kopieren</translation>
    </message>
    <message>
        <source>Copy the values as tab-separated text (at most %L1 values)</source>
        <translation>Die Werte als tabulatorgetrennten Text kopieren (höchstens %L1 Werte)</translation>
    </message>
    <message>
        <source>Save as .npy…</source>
        <translation>Als .npy speichern…</translation>
    </message>
    <message>
        <source>%1 %2 · %3 values (%4) · %5</source>
        <translation>%1 %2 · %3 Werte (%4) · %5</translation>
    </message>
    <message>
        <source>quantized per channel (axis %1, %2 channels)</source>
        <translation>pro Kanal quantisiert (Achse %1, %2 Kanäle)</translation>
    </message>
    <message>
        <source>quantized: scale %1, zero point %2</source>
        <translation>quantisiert: Skala %1, Nullpunkt %2</translation>
    </message>
    <message>
        <source>Computing statistics of %1 values…</source>
        <translation>Statistik über %1 Werte wird berechnet…</translation>
    </message>
    <message>
        <source>Computing…</source>
        <translation>Wird berechnet…</translation>
    </message>
    <message>
        <source>%1 % zeros</source>
        <translation>%1 % Nullen</translation>
    </message>
    <message>
        <source>%1 of %2 values are exactly zero</source>
        <translation>%1 von %2 Werten sind genau null</translation>
    </message>
    <message>
        <source>Histogram</source>
        <translation>Histogramm</translation>
    </message>
    <message>
        <source>Per-channel range</source>
        <translation>Bereich pro Kanal</translation>
    </message>
    <message>
        <source>No finite values to plot</source>
        <translation>Keine endlichen Werte zum Zeichnen</translation>
    </message>
    <message>
        <source>count</source>
        <translation>Anzahl</translation>
    </message>
    <message>
        <source>value (dequantized)</source>
        <translation>Wert (dequantisiert)</translation>
    </message>
    <message>
        <source>value</source>
        <translation>Wert</translation>
    </message>
    <message>
        <source>count (log)</source>
        <translation>Anzahl (log)</translation>
    </message>
    <message>
        <source>Histogram (one bin per value)</source>
        <translation>Histogramm (ein Fach pro Wert)</translation>
    </message>
    <message numerus="yes">
        <source>Histogram (%n bin(s))</source>
        <translation>
            <numerusform>Histogramm (%n Fach)</numerusform>
            <numerusform>Histogramm (%n Fächer)</numerusform>
        </translation>
    </message>
    <message>
        <source>Per-channel ranges need a tensor of rank 2 or more</source>
        <translation>Bereiche pro Kanal brauchen einen Tensor mit Rang 2 oder mehr</translation>
    </message>
    <message>
        <source>No per-channel ranges for this tensor</source>
        <translation>Keine Bereiche pro Kanal für diesen Tensor</translation>
    </message>
    <message>
        <source>min</source>
        <translation>Min</translation>
    </message>
    <message>
        <source>max</source>
        <translation>Max</translation>
    </message>
    <message>
        <source>NumPy has no standard type for %1</source>
        <translation>NumPy hat keinen Standardtyp für %1</translation>
    </message>
    <message>
        <source>Write the tensor as stored to a NumPy .npy file</source>
        <translation>Den Tensor wie gespeichert in eine NumPy-.npy-Datei schreiben</translation>
    </message>
    <message>
        <source>Save Tensor as .npy</source>
        <translation>Tensor als .npy speichern</translation>
    </message>
    <message>
        <source>NumPy arrays (*.npy)</source>
        <translation>NumPy-Arrays (*.npy)</translation>
    </message>
    <message>
        <source>%1: %2</source>
        <translation>%1: %2</translation>
    </message>
    <message>
        <source>Cannot Save Tensor</source>
        <translation>Tensor kann nicht gespeichert werden</translation>
    </message>
    <message>
        <source>Could not save %1.</source>
        <translation>%1 konnte nicht gespeichert werden.</translation>
    </message>
    <message>
        <source>channel (axis %1)</source>
        <translation>Kanal (Achse %1)</translation>
    </message>
    <message>
        <source>%1 (axis %2)</source>
        <translation>%1 (Achse %2)</translation>
    </message>
    <message numerus="yes">
        <source>Min/max per channel (%n channel(s))</source>
        <translation>
            <numerusform>Min/Max pro Kanal (%n Kanal)</numerusform>
            <numerusform>Min/Max pro Kanal (%n Kanäle)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>main</name>
    <message>
        <source>Edgewise: inspect and optimize neural-network models.</source>
        <translation>Edgewise: neuronale Netze untersuchen und optimieren.</translation>
    </message>
    <message>
        <source>Model file to open (.onnx, .tflite).</source>
        <translation>Zu öffnende Modelldatei (.onnx, .tflite).</translation>
    </message>
    <message>
        <source>User interface language, e.g. de or en (default: EDGEWISE_LANG, then the system locale).</source>
        <translation>Sprache der Oberfläche, z. B. de oder en (Vorgabe: EDGEWISE_LANG, sonst die Systemsprache).</translation>
    </message>
    <message>
        <source>Show the per-node values of this overlay JSON file once the model is open.</source>
        <translation>Die Werte pro Knoten dieser Overlay-JSON-Datei zeigen, sobald das Modell offen ist.</translation>
    </message>
    <message>
        <source>--overlay %1 needs a model to show it on</source>
        <translation>--overlay %1 braucht ein Modell, auf dem es angezeigt wird</translation>
    </message>
</context>
</TS>
